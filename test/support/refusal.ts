import { ConnectError } from "@connectrpc/connect";

/** The error an RPC answered with; fails the test when the call succeeded instead. */
export async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  if (!error) throw new Error("the call succeeded");
  return error;
}
