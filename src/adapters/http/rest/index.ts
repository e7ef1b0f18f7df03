export { createRestGateway, type RestGateway, type RestGatewayOptions } from "./gateway.js";
export { createStreamAdmissionInterceptor } from "./stream-admission.js";
export { compileRouteTable, routesOfMethod, type RestRoute, type RouteTable } from "./route-table.js";
export { HTTP_STATUS_OF_CODE, restError, statusJson, type StatusJson } from "./status.js";
export { loadOpenApiDocument } from "./openapi-document.js";
