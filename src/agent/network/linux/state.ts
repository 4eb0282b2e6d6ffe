/** Small helpers of the Linux driver: its state files (JSON documents, atomic writes) and process liveness. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export const readJson = <T>(f: string): T | undefined => {
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as T;
  } catch {
    return undefined;
  }
};
export const writeAtomic = (f: string, data: string) => {
  writeFileSync(`${f}.tmp`, data);
  renameSync(`${f}.tmp`, f);
};
/** Running (a zombie, which a host without a reaping init can leave behind, is not). */
export const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};
