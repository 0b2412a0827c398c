// Readiness for systemd (sd_notify(3)): when NOTIFY_SOCKET is set, tell the service manager we are
// ready (Type=notify). Node cannot send on a unix datagram socket, so this hands the message to
// `systemd-notify`, which systemd ships; the unit sets NotifyAccess=all so the helper's pid counts.

import { spawn } from 'node:child_process';

/** Send `READY=1` (and a status line) when running under systemd with Type=notify; else nothing. */
export function notifyReady(status: string, onError: (err: Error) => void): void {
  if (!process.env.NOTIFY_SOCKET) return;
  const child = spawn('systemd-notify', ['--ready', `--status=${status}`], { stdio: 'ignore' });
  child.on('error', onError);
  child.on('exit', (code) => {
    if (code !== 0) onError(new Error(`systemd-notify exited with ${code}`));
  });
}
