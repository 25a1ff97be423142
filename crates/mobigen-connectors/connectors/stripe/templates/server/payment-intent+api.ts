// Server-only API route: creates a Stripe PaymentIntent for a product the caller names. The
// server decides the price: from the price table in the connector's config (`prices`), or from a
// one-time Stripe Price (`price_...`) read from Stripe; an amount sent by the client is ignored.
// Only signed-in users may call it (see `authenticatedCaller` below). Reads STRIPE_SECRET_KEY
// from the server environment (.env.local locally, EAS environment variables when deployed).
import Stripe from 'stripe';

const DEFAULT_CURRENCY: string = {%json /currency%};
/** Product id -> price in the currency's smallest unit, from the connector's config. */
const PRICES: Record<string, { amount: number; currency?: string }> = {%json /prices%};

export async function POST(request: Request): Promise<Response> {
  const caller = await authenticatedCaller(request);
  if (!caller) {
    return Response.json({ error: 'sign in first: this route needs a valid session token' }, { status: 401 });
  }
  const secretKey = process.env.STRIPE_SECRET_KEY;
  if (!secretKey) {
    return Response.json({ error: 'STRIPE_SECRET_KEY is not set on the server' }, { status: 500 });
  }
  const body = (await request.json().catch(() => null)) as { productId?: unknown; priceId?: unknown } | null;
  const stripe = new Stripe(secretKey);
  let amount: number;
  let currency: string;
  const metadata: Record<string, string> = { userId: caller };
  if (typeof body?.productId === 'string' && Object.prototype.hasOwnProperty.call(PRICES, body.productId)) {
    const price = PRICES[body.productId];
    amount = price.amount;
    currency = price.currency ?? DEFAULT_CURRENCY;
    metadata.productId = body.productId;
  } else if (typeof body?.priceId === 'string' && body.priceId.startsWith('price_')) {
    const price = await stripe.prices.retrieve(body.priceId).catch(() => null);
    if (!price || !price.active || price.type !== 'one_time' || typeof price.unit_amount !== 'number') {
      return Response.json({ error: 'priceId is not an active one-time Stripe Price' }, { status: 400 });
    }
    amount = price.unit_amount;
    currency = price.currency;
    metadata.priceId = price.id;
  } else {
    return Response.json({ error: 'name a product from the price table (productId) or a Stripe Price (priceId)' }, { status: 400 });
  }
  const paymentIntent = await stripe.paymentIntents.create({
    amount,
    currency,
    metadata,
    automatic_payment_methods: { enabled: true },
  });
  return Response.json({ clientSecret: paymentIntent.client_secret, amount, currency });
}

// ---- Caller authentication -------------------------------------------------------------------
// The caller sends `Authorization: Bearer <token>`: the session token of the app's auth connector
// (a Supabase access token, checked with the project's auth server; or a Firebase ID token, checked
// against Google's public keys), or the server-only API_SERVER_TOKEN for your own backend.
// Anything else is refused with 401 before any other work.

/** The id of the verified caller, or null. */
async function authenticatedCaller(request: Request): Promise<string | null> {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '');
  if (!match) {
    return null;
  }
  const token = match[1];
  const serverToken = process.env.API_SERVER_TOKEN;
  if (serverToken && serverToken.length >= 32 && constantTimeEqual(token, serverToken)) {
    return 'server';
  }
  const supabaseUrl = process.env.EXPO_PUBLIC_SUPABASE_URL;
  const supabaseKey = process.env.EXPO_PUBLIC_SUPABASE_KEY;
  if (supabaseUrl && supabaseKey) {
    // What supabase-js `auth.getUser(token)` does: the auth server answers only for a live session.
    const response = await fetch(`${supabaseUrl.replace(/\/+$/, '')}/auth/v1/user`, {
      headers: { apikey: supabaseKey, Authorization: `Bearer ${token}` },
    }).catch(() => null);
    if (!response?.ok) {
      return null;
    }
    const user = (await response.json().catch(() => null)) as { id?: unknown } | null;
    return typeof user?.id === 'string' && user.id.length > 0 ? user.id : null;
  }
  const firebaseProject = process.env.EXPO_PUBLIC_FIREBASE_PROJECT_ID;
  if (firebaseProject) {
    return verifyFirebaseIdToken(token, firebaseProject);
  }
  return null;
}

function constantTimeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    difference |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  }
  return difference === 0;
}

const FIREBASE_KEYS_URL = 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

// The return type is inferred: `Uint8Array<ArrayBuffer>` on TypeScript 5.7+, `Uint8Array` before
// (SDK 52 pins TypeScript 5.3, where `Uint8Array` is not generic).
function base64UrlBytes(text: string) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** Verifies a Firebase ID token (RS256, signed by Google for this project, unexpired); returns its uid. */
async function verifyFirebaseIdToken(token: string, projectId: string): Promise<string | null> {
  try {
    const [headerPart, payloadPart, signaturePart] = token.split('.');
    if (!headerPart || !payloadPart || !signaturePart) {
      return null;
    }
    const header = JSON.parse(new TextDecoder().decode(base64UrlBytes(headerPart))) as { alg?: string; kid?: string };
    const claims = JSON.parse(new TextDecoder().decode(base64UrlBytes(payloadPart))) as {
      aud?: unknown; iss?: unknown; sub?: unknown; exp?: unknown; iat?: unknown;
    };
    const now = Math.floor(Date.now() / 1000);
    if (
      header.alg !== 'RS256' ||
      claims.aud !== projectId ||
      claims.iss !== `https://securetoken.google.com/${projectId}` ||
      typeof claims.sub !== 'string' || claims.sub.length === 0 ||
      typeof claims.exp !== 'number' || claims.exp <= now ||
      typeof claims.iat !== 'number' || claims.iat > now + 300
    ) {
      return null;
    }
    const keys = (await (await fetch(FIREBASE_KEYS_URL)).json()) as { keys?: (JsonWebKey & { kid?: string })[] };
    const jwk = keys.keys?.find((key) => key.kid === header.kid);
    if (!jwk) {
      return null;
    }
    const key = await crypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
    const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
    const valid = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, base64UrlBytes(signaturePart), signed);
    return valid ? claims.sub : null;
  } catch {
    return null;
  }
}
