// Server-only: who is calling the connector's API routes. Imported by the routes, never by app
// code, so it is never bundled into the app; it lives outside the router folder, where Expo
// Router would take it for a screen.
//
// The caller sends `Authorization: Bearer <token>`: the session token of the app's auth connector
// (a Supabase access token, checked with the project's auth server; or a Firebase ID token, checked
// against Google's public keys), or the server-only API_SERVER_TOKEN for your own backend.
// Anything else is refused with 401 before any other work.

/** The id of the verified caller, or null. */
export async function authenticatedCaller(request: Request): Promise<string | null> {
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
