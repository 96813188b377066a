/**
 * The ports the embedded default, the dev Worker and the test harnesses pick
 * for their servers (src/runtime/dev-members.ts). A port that a client's
 * socket or another pick takes between the pick and the server's listen
 * makes a witness die with EADDRINUSE, so these hold: the run is free, it is
 * below the range outgoing connections are given, and picks made together
 * never overlap (without the process's record of what it handed out, the
 * second test's 500 ports collide in most runs).
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, freePorts } from "../../src/runtime/dev-members.js";

const ephemeralStart = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject).listen(port, "127.0.0.1", () => resolve(server));
  });
}

describe("freePorts", () => {
  it("hands out a run of consecutive ports that can all be listened on, below the outgoing connections' range", async () => {
    const base = await freePorts(4);
    expect(base + 3).toBeLessThan(ephemeralStart);
    const servers = await Promise.all([0, 1, 2, 3].map((i) => listen(base + i)));
    await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  });

  it("never hands out a port twice, though none of the servers it was picked for listens yet", async () => {
    const ports: number[] = [];
    for (let i = 0; i < 100; i++) {
      const base = await freePorts(4);
      ports.push(base, base + 1, base + 2, base + 3, await freePort());
    }
    expect(new Set(ports).size).toBe(ports.length);
  });
});
