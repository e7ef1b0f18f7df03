import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";

/**
 * A stand-in for a service whose behaviour belongs to later work: every method
 * answers Unimplemented and says which piece of work brings it, instead of
 * Connect's generic "not implemented".
 */
export function unimplementedService<S extends DescService>(service: S, arrivesWith: string): ServiceImpl<S> {
  const impl: Record<string, () => never> = {};
  for (const method of service.methods) {
    impl[method.localName] = () => {
      throw new ConnectError(`${service.typeName}/${method.name} is not implemented yet: it arrives with ${arrivesWith}`, Code.Unimplemented);
    };
  }
  return impl as unknown as ServiceImpl<S>;
}
