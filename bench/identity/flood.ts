/**
 * Login during a wrong-password flood: a quiet user's password login latency alone, then while 200 concurrent
 * wrong-password logins hammer another account (bcrypt at Keystone's cost 12 unless STACKBOX_BCRYPT_ROUNDS
 * says otherwise). Goal: within 2× of the quiet figure. Run: `npm run bench:identity-flood`. Loopback only.
 */
import { pct } from '../support.js';
import { passwordAuth, startStackbox } from '../../tests/support/stackbox.js';

const ROUNDS = Number(process.env.BENCH_QUIET_LOGINS ?? 8);

async function main() {
  const sb = await startStackbox({
    env: {
      STACKBOX_BCRYPT_ROUNDS: process.env.STACKBOX_BCRYPT_ROUNDS ?? '12',
      STACKBOX_LOCKOUT_FAILURE_ATTEMPTS: '0',
    },
    ready: 'token',
  });
  try {
    const post = (body: unknown) =>
      fetch(`${sb.url}/identity/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const admin = (await post(passwordAuth('admin', sb.adminPassword, 'admin'))).headers.get(
      'x-subject-token',
    )!;
    for (const name of ['victim', 'bystander']) {
      const r = await fetch(`${sb.url}/identity/v3/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': admin },
        body: JSON.stringify({ user: { name, password: `pw-${name}` } }),
      });
      if (r.status !== 201) throw new Error(`user ${name}: ${r.status}`);
    }
    const quietLogin = async () => {
      const t = performance.now();
      const r = await post(passwordAuth('bystander', 'pw-bystander'));
      if (r.status !== 201) throw new Error(`bystander login: ${r.status}`);
      return performance.now() - t;
    };
    await quietLogin();
    const quiet: number[] = [];
    for (let i = 0; i < ROUNDS; i++) quiet.push(await quietLogin());

    let floodDone = false;
    const codes = new Map<number, number>();
    const flood = Array.from({ length: 200 }, (_, i) =>
      post(passwordAuth('victim', `wrong-${i}`)).then((r) =>
        codes.set(r.status, (codes.get(r.status) ?? 0) + 1),
      ),
    );
    const during: number[] = [];
    const all = Promise.all(flood).then(() => (floodDone = true));
    for (let i = 0; i < ROUNDS && !floodDone; i++) during.push(await quietLogin());
    await all;
    const q = pct(quiet, 50);
    const d = pct(during, 50);
    console.table([
      { case: 'quiet login', 'p50 ms': +q.toFixed(1), n: quiet.length },
      { case: 'login during 200 wrong-password flood', 'p50 ms': +d.toFixed(1), n: during.length },
    ]);
    console.log(
      `ratio ${(d / q).toFixed(2)} (goal ≤ 2); flood answers ${JSON.stringify(Object.fromEntries(codes))}`,
    );
  } finally {
    await sb.stop();
    await sb.cleanup();
  }
}

await main();
