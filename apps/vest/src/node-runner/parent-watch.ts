/**
 * Preloaded into the Vest node's process (`--import`, see node-process.ts), so the node
 * binary stays as it is. The parent holds the other end of the node's stdin pipe; the
 * kernel closes it when the parent dies in any way, SIGKILL included, and then the node
 * stops itself as on Ctrl-C (SIGTERM: in-flight streams finish first) instead of running
 * on as an orphan that holds Vest's ports.
 */
const stdin = process.stdin;
if (!stdin.isTTY) {
  stdin.once("end", () => process.kill(process.pid, "SIGTERM"));
  // Nothing is ever written to the pipe; a read error means the parent is gone too.
  stdin.once("error", () => process.kill(process.pid, "SIGTERM"));
  stdin.resume();
  // Watching must not keep the node alive by itself.
  stdin.unref();
}
