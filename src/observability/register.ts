/**
 * Loaded with `node --import ./dist/src/observability/register.js` (npm
 * start, the image's CMD) so tracing is set up before any module of the
 * service is imported. Does nothing unless an `OTEL_*` exporter is configured.
 */
import { startTracing } from "./tracing.js";

startTracing();
