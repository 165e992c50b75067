// One typed-array access in a hot function that the event loop calls, as the node's session
// code is called: prints the CPU ns per access. run.ts starts it once per access and V8 mode.

const ACCESS_PER_CALL = 100;
const kind = process.argv[2] ?? "";

const bytes = new Uint8Array(new ArrayBuffer(4096), 0, 2048);
const small = new Uint8Array(8);
const subarray = Uint8Array.prototype.subarray;
const set = Uint8Array.prototype.set;
let sink = 0;

const accesses: Record<string, () => void> = {
  byteLength: () => {
    for (let i = 0; i < ACCESS_PER_CALL; i++) sink += bytes.byteLength;
  },
  length: () => {
    for (let i = 0; i < ACCESS_PER_CALL; i++) sink += bytes.length;
  },
  byteOffset: () => {
    for (let i = 0; i < ACCESS_PER_CALL; i++) sink += bytes.byteOffset;
  },
  buffer: () => {
    for (let i = 0; i < ACCESS_PER_CALL; i++) sink += bytes.buffer === undefined ? 1 : 0;
  },
  "subarray()": () => {
    for (let i = 0; i < ACCESS_PER_CALL; i++) sink += bytes.subarray(i, i + 10).length;
  },
  "prototype subarray.call()": () => {
    for (let i = 0; i < ACCESS_PER_CALL; i++) sink += subarray.call(bytes, i, i + 10).length;
  },
  "set()": () => {
    for (let i = 0; i < ACCESS_PER_CALL; i++) bytes.set(small, i);
  },
  "prototype set.call()": () => {
    for (let i = 0; i < ACCESS_PER_CALL; i++) set.call(bytes, small, i);
  },
};

const access = accesses[kind];
if (!access) {
  process.stderr.write(`unknown access "${kind}"; one of: ${Object.keys(accesses).join(", ")}\n`);
  process.exit(2);
}
const seconds = Number(process.argv[3] ?? "1.5");
const cpuAtStart = process.cpuUsage();
const startedAt = Date.now();
let calls = 0;
function tick(): void {
  for (let i = 0; i < 1000; i++) access?.();
  calls += 1000;
  if (Date.now() - startedAt < seconds * 1000) setImmediate(tick);
  else {
    const cpu = process.cpuUsage(cpuAtStart);
    const nsPerAccess = ((cpu.user + cpu.system) * 1000) / (calls * ACCESS_PER_CALL);
    process.stdout.write(
      `${JSON.stringify({ kind, ns_per_access: Number(nsPerAccess.toFixed(2)), sink })}\n`,
    );
  }
}
tick();
