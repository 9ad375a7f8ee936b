#!/usr/bin/env node
// Prints an HS256 JWT for local use: node scripts/mint-token.mjs SECRET SUB [ROLE] [TTL_SECONDS]
import crypto from 'node:crypto';

const [secret, sub, role, ttl = '86400'] = process.argv.slice(2);
if (!secret || !sub) {
  console.error('usage: mint-token.mjs SECRET SUB [ROLE] [TTL_SECONDS]');
  process.exit(2);
}
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const payload = { sub, iat: now, exp: now + Number(ttl), ...(role ? { role } : {}) };
const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
console.log(`${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`);
