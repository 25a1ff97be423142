// Server-only admin API route: sends a push notification through OneSignal's REST API with the
// App API key from the server environment (ONESIGNAL_API_KEY in .env.local locally, EAS
// environment variables when deployed). It can reach many users, so only a caller holding the
// server-only admin token ONESIGNAL_ADMIN_TOKEN (at least 32 characters; never an EXPO_PUBLIC_
// variable, never in the app) may call it, and the audience must be named: external ids or a
// segment. There is no default audience.
const ONESIGNAL_API = 'https://api.onesignal.com/notifications?c=push';
/** The sound file bundled with the app for notifications (`defaultSound` in the connector's config). */
const DEFAULT_SOUND: string | undefined = {%json /defaultSound%};

type SendRequest = {
  title?: unknown;
  message?: unknown;
  /** OneSignal external ids (set with `login` in the app). */
  externalIds?: unknown;
  /** A segment name from the OneSignal dashboard, such as "Active Users". */
  segment?: unknown;
  data?: unknown;
};

function constantTimeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    difference |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  }
  return difference === 0;
}

export async function POST(request: Request): Promise<Response> {
  const adminToken = process.env.ONESIGNAL_ADMIN_TOKEN;
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '');
  if (!adminToken || adminToken.length < 32 || !match || !constantTimeEqual(match[1], adminToken)) {
    return Response.json({ error: 'this admin route needs the server-only ONESIGNAL_ADMIN_TOKEN as a Bearer token' }, { status: 401 });
  }
  const apiKey = process.env.ONESIGNAL_API_KEY;
  const appId = process.env.EXPO_PUBLIC_ONESIGNAL_APP_ID;
  if (!apiKey || !appId) {
    return Response.json({ error: 'ONESIGNAL_API_KEY or EXPO_PUBLIC_ONESIGNAL_APP_ID is not set on the server' }, { status: 500 });
  }
  const body = (await request.json().catch(() => null)) as SendRequest | null;
  if (typeof body?.message !== 'string' || body.message.length === 0) {
    return Response.json({ error: 'message must be a non-empty string' }, { status: 400 });
  }
  const externalIds = Array.isArray(body.externalIds)
    ? body.externalIds.filter((id): id is string => typeof id === 'string' && id.length > 0)
    : [];
  const segment = typeof body.segment === 'string' && body.segment.length > 0 ? body.segment : null;
  if (externalIds.length === 0 && segment === null) {
    return Response.json({ error: 'name the audience: externalIds (a non-empty list) or segment' }, { status: 400 });
  }
  const payload: Record<string, unknown> = {
    app_id: appId,
    target_channel: 'push',
    contents: { en: body.message },
    ...(typeof body.title === 'string' ? { headings: { en: body.title } } : {}),
    ...(DEFAULT_SOUND ? { ios_sound: DEFAULT_SOUND, android_sound: DEFAULT_SOUND.replace(/\.[^.]+$/, '') } : {}),
    ...(body.data && typeof body.data === 'object' ? { data: body.data } : {}),
    ...(externalIds.length > 0
      ? { include_aliases: { external_id: externalIds } }
      : { included_segments: [segment] }),
  };
  const response = await fetch(ONESIGNAL_API, {
    method: 'POST',
    headers: { Authorization: `Key ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const result = (await response.json().catch(() => ({}))) as { id?: string; errors?: unknown };
  // OneSignal answers 200 with an empty id when nobody was subscribed: that is not a success.
  if (!response.ok || !result.id) {
    return Response.json({ error: 'OneSignal did not send the notification', details: result.errors ?? null }, { status: 502 });
  }
  return Response.json({ id: result.id });
}
