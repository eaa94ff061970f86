// Built-in enricher: adds, from the host's process lookups, the parent of each
// flow's process and the process's cgroup and container:
//   process_parent_name  the parent's executable path (comm when the path is unknown)
//   process_parent_id    the parent's pid, as a string
//   process_cgroup       cgroup v2 path relative to the cgroup2 root, e.g. /system.slice/docker-<id>.scope
//   container_id         the container id found in that path (docker, containerd/cri, cri-o, podman, kubepods)
// Each is `-` when unknown, and for flows of several pids (`process_id` `*`) or none (`-`).
import { Flow, flowProcess, getProcess, Process } from "procflow-plugin-sdk";

const UNKNOWN = "-";
// Runtime prefixes of a container's own cgroup (systemd driver: `<prefix><id>.scope`).
// `crio-conmon-` / `libpod-conmon-` are the monitors' cgroups, not the container's: no prefix matches them
// because their rest starts with `conmon-`, which is not hex.
const PREFIXES: string[] = ["cri-containerd-", "docker-", "crio-", "libpod-"];

function isHex64(s: string, from: i32): bool {
  if (s.length - from != 64) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false; // 0-9 a-f
  }
  return true;
}

/** The container id in one path component, or "". */
function idOf(component: string): string {
  let c = component;
  if (c.endsWith(".scope")) c = c.substring(0, c.length - 6);
  for (let i = 0; i < PREFIXES.length; i++) {
    const p = unchecked(PREFIXES[i]);
    if (c.startsWith(p)) return isHex64(c, p.length) ? c.substring(p.length) : "";
  }
  // cgroupfs driver: /docker/<id>, /kubepods/<qos>/pod<uid>/<id>, /libpod_parent/<id>
  return isHex64(c, 0) ? c : "";
}

/**
 * The container id of a cgroup v2 path, or "" when it names none. The deepest
 * component that names a container wins (podman's `…/libpod-<id>.scope/container`
 * and nested runtimes), so the innermost container is reported.
 */
export function containerId(path: string): string {
  let end = path.length;
  while (end > 0) {
    const slash = path.lastIndexOf("/", end - 1);
    const id = idOf(path.substring(slash + 1, end));
    if (id.length > 0) return id;
    if (slash < 0) break;
    end = slash;
  }
  return "";
}

function setUnknown(f: Flow): void {
  f.setString("process_parent_name", UNKNOWN);
  f.setString("process_parent_id", UNKNOWN);
  f.setString("process_cgroup", UNKNOWN);
  f.setString("container_id", UNKNOWN);
}

export function enrich(flows: Flow[]): void {
  for (let i = 0; i < flows.length; i++) {
    const f = unchecked(flows[i]);
    // `*` (several pids) and `-` (none): the host has no single process for the flow.
    const proc: Process | null = f.processId == "*" || f.processId == "-" ? null : flowProcess(f.id);
    if (proc === null) {
      setUnknown(f);
      continue;
    }
    const parent: Process | null = proc.ppid > 0 ? getProcess(proc.ppid) : null;
    f.setString("process_parent_name", parent !== null && parent.name.length > 0 ? parent.name : UNKNOWN);
    f.setString("process_parent_id", proc.ppid > 0 ? proc.ppid.toString() : UNKNOWN);
    const cgroup = proc.cgroup;
    f.setString("process_cgroup", cgroup.length > 0 ? cgroup : UNKNOWN);
    const id = cgroup.length > 0 ? containerId(cgroup) : "";
    f.setString("container_id", id.length > 0 ? id : UNKNOWN);
  }
}
