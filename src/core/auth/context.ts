import type { Credentials } from './policy.js';

/** The caller, as established from a validated token. */
export interface AuthContext {
  token: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  domainId?: string;
  domainName?: string;
  system?: boolean;
  roles: { id: string; name: string }[];
  expiresAt: Date;
  issuedAt: Date;
  auditIds: string[];
  methods: string[];
  applicationCredentialId?: string;
  /** Policy values for the policy engine. */
  creds: Credentials;
}

/** Implemented by the identity service; every other service validates tokens through it. */
export interface TokenValidator {
  validate(token: string, opts?: { allowExpired?: boolean }): Promise<AuthContext>;
}
