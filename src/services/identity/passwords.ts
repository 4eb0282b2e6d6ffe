import bcrypt from 'bcrypt';

/** bcrypt, as Keystone hashes passwords (default cost 12). The native binding runs off the event loop. */
export const hashPassword = (password: string, rounds: number): Promise<string> =>
  bcrypt.hash(password, rounds);

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await bcrypt.compare(password, hash);
  } catch {
    return false;
  }
}
