// The vault's envelope work with Node's crypto, as `cargo bench --bench vault` does it per
// "encrypt+decrypt 1 KiB" pair: a random 256-bit data key, wrapped (AES-256-GCM, random nonce,
// authenticated data) by a key-encryption key, 1 KiB encrypted under the data key (random
// nonce, authenticated data), then the data key unwrapped and the body decrypted.
// Prints {"pairsPerSecond": N, "microsPerPair": N}.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const kek = randomBytes(32);
const plaintext = Buffer.alloc(1024, 'x');
const aadWrap = Buffer.from('mobigen-connectors/v1/wrap\0prj-bench\0stripe');
const aadBody = Buffer.from('mobigen-connectors/v1/body\0prj-bench\0stripe');

function seal(key, data, aad) {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(data), cipher.final()]);
  return { nonce, body, tag: cipher.getAuthTag() };
}

function open(key, record, aad) {
  const decipher = createDecipheriv('aes-256-gcm', key, record.nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(record.tag);
  return Buffer.concat([decipher.update(record.body), decipher.final()]);
}

function pair() {
  const dataKey = randomBytes(32);
  const wrapped = seal(kek, dataKey, aadWrap);
  const record = seal(dataKey, plaintext, aadBody);
  const unwrapped = open(kek, wrapped, aadWrap);
  return open(unwrapped, record, aadBody);
}

if (!pair().equals(plaintext)) throw new Error('round trip failed');
const budgetMs = Number(process.env.BENCH_BUDGET_MS ?? 3000);
for (let i = 0; i < 5000; i++) pair();
let runs = 0;
const start = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < budgetMs) {
  for (let i = 0; i < 1000; i++) pair();
  runs += 1000;
  elapsed = Number(process.hrtime.bigint() - start) / 1e6;
}
const seconds = elapsed / 1000;
console.log(JSON.stringify({ pairsPerSecond: runs / seconds, microsPerPair: (seconds * 1e6) / runs }));
