import type { AddressInfo, Server } from "node:net";

/** Binds a server, turning the first 'error' (EADDRINUSE, EACCES) into a rejection. */
export function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
