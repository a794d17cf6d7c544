/**
 * The deployment examples (deploy/kubernetes/, deploy/systemd/) are only
 * written, not run here (docs/scale-out.md says so): this keeps them
 * honest. Every YAML file parses; the pieces fit together (the agents'
 * Redis URL is the coordinator's and names the Redis Service and its port,
 * there are as many agents as the coordinator waits for); and every flag
 * they pass is a flag the command has and accepts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { agentFlags, agentOptions } from "../cli/agent.js";
import { benchFlags } from "../cli/bench-options.js";
import { redisUrl } from "../cli/parse.js";

const DEPLOY = fileURLToPath(new URL("../../deploy/", import.meta.url));

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: {
    replicas?: number;
    ports?: { port: number }[];
    template?: { spec: { containers: { args?: string[] }[] } };
  };
}

function manifests(): Manifest[] {
  const dir = path.join(DEPLOY, "kubernetes");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(path.join(dir, f), "utf8")).map((doc) => {
        assert.deepEqual(doc.errors, [], `${f}: ${doc.errors.join("; ")}`);
        return doc.toJS() as Manifest;
      }),
    );
}

/** The value after `--flag` in an argument list. */
function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
}

/** Every --flag in args is one of `known`. */
function assertKnownFlags(args: readonly string[], known: readonly string[], where: string): void {
  for (const a of args.filter((x) => x.startsWith("--"))) assert.ok(known.includes(a.slice(2)), `${where}: ${a} is not a flag of the command`);
}

test("the Kubernetes example parses and fits together: a Redis, the agents and the coordinator Job", () => {
  const all = manifests();
  const find = (kind: string, name: string): Manifest => {
    const m = all.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(m !== undefined, `no ${kind} ${name} in deploy/kubernetes`);
    return m;
  };
  const service = find("Service", "iobench-redis");
  find("Deployment", "iobench-redis");
  const agents = find("Deployment", "iobench-agent");
  const job = find("Job", "iobench-coordinator");

  const agentArgs = agents.spec.template!.spec.containers[0]!.args!;
  const benchArgs = job.spec.template!.spec.containers[0]!.args!;
  assert.equal(agentArgs[0], "agent");
  assert.equal(benchArgs[0], "bench");
  assertKnownFlags(agentArgs, Object.keys(agentFlags()), "agents.yaml");
  assertKnownFlags(benchArgs, Object.keys(benchFlags(4)), "coordinator-job.yaml");

  // The agent's flags pass the agent's own checks (the pod name stands in for $(POD_NAME)).
  const checked = agentOptions({ redis: flag(agentArgs, "redis"), name: "iobench-agent-7d9c5-x2x4q" }, 4);
  const url = new URL(checked.redis);
  assert.equal(redisUrl("agents", flag(benchArgs, "agents")!), checked.redis, "agents and coordinator meet on one Redis");
  assert.equal(url.hostname, service.metadata.name, "the URL names the Redis Service");
  assert.equal(Number(url.port), service.spec.ports![0]!.port);
  assert.equal(Number(flag(benchArgs, "agent-count")), agents.spec.replicas, "the coordinator waits for as many agents as run");
});

test("the systemd unit runs the agent with flags it has", () => {
  const unit = readFileSync(path.join(DEPLOY, "systemd", "iobench-agent.service"), "utf8");
  const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(/\s+/) ?? [];
  assert.ok(exec.includes("agent"), "ExecStart runs `agent`");
  assertKnownFlags(exec, Object.keys(agentFlags()), "iobench-agent.service");
  assert.match(unit, /^LimitNOFILE=\d+$/m, "an agent holds a file per session: the unit raises the limit");
});
