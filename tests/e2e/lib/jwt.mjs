// jwt: signs test tokens with Node's crypto (HS*, RS*, ES*), plus deliberately broken ones.
import crypto from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export const DEFAULT_SECRET = 'test-secret-for-pgrt-e2e-0123456789';

/** Builds header.payload.signature from raw parts; `sign` gets the signing input. */
export function assemble(header, payload, sign) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${sign ? b64url(sign(input)) : ''}`;
}

export function claims({ sub = 'alice', ttl = 3600, ...rest } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { sub, exp: now + ttl, iat: now, ...rest };
}

export function hs256(payload, secret = DEFAULT_SECRET, alg = 'HS256') {
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  return assemble({ alg, typ: 'JWT' }, payload, (input) => crypto.createHmac(hash, secret).update(input).digest());
}

export function rs256(payload, privateKey) {
  return assemble({ alg: 'RS256', typ: 'JWT' }, payload, (input) =>
    crypto.sign('sha256', Buffer.from(input), privateKey));
}

export function es256(payload, privateKey) {
  return assemble({ alg: 'ES256', typ: 'JWT' }, payload, (input) =>
    crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }));
}

export function unsigned(payload) {
  return assemble({ alg: 'none', typ: 'JWT' }, payload, null);
}

export function token(sub = 'alice', extra = {}) {
  return hs256(claims({ sub, ...extra }));
}
