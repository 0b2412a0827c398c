// /proc readings for the benchmarks (CPU time, RSS, process trees), and building the daemon they run.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** User + system CPU seconds of one process. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return ticks / 100;
}

/** VmRSS of one process in bytes (0 for a process that is gone). */
export function rss(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** All pids of a process tree (NSD forks; Knot and the shells wrap). */
export function tree(pid: number): number[] {
  const out = [pid];
  try {
    const kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    for (const k of kids) out.push(...tree(k));
  } catch {
    // no children
  }
  return out;
}

/** Summed VmRSS of a process tree, in MiB. */
export function treeRssMiB(pid: number): number {
  return tree(pid).reduce((s, p) => s + rss(p), 0) / 1048576;
}

/** Build dist/ from src/ (the benchmarks run the daemon as users do, bin/secondaryd). */
export function buildDaemon(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: path.join(import.meta.dirname, '..'), stdio: 'inherit' });
}
