import { describe, expect, it } from "vitest";
import { ReadGate } from "../src/server/read-gate.js";

/** Records what the gate asked of the socket. */
function socket() {
  const calls: string[] = [];
  return { calls, pause: () => calls.push("pause"), resume: () => calls.push("resume") };
}

describe("ReadGate", () => {
  it("pauses on the first reason and resumes only once every reason is released", () => {
    const s = socket();
    const gate = new ReadGate(s);
    gate.hold("body_buffer");
    gate.hold("write_queue");
    expect(gate.isHeld("body_buffer")).toBe(true);
    expect(gate.isHeld("write_queue")).toBe(true);
    gate.release("body_buffer");
    expect(gate.paused).toBe(true);
    expect(gate.isHeld("body_buffer")).toBe(false);
    expect(s.calls).toEqual(["pause"]);
    gate.release("write_queue");
    expect(gate.paused).toBe(false);
    expect(s.calls).toEqual(["pause", "resume"]);
  });

  it("ignores a release of a reason it does not hold, and a second hold of one it does", () => {
    const s = socket();
    const gate = new ReadGate(s);
    gate.release("write_queue");
    expect(s.calls).toEqual([]);
    gate.hold("write_queue");
    gate.hold("write_queue");
    gate.release("body_buffer");
    expect(gate.paused).toBe(true);
    gate.release("write_queue");
    gate.release("write_queue");
    expect(s.calls).toEqual(["pause", "resume"]);
  });
});
