// Server-only API route: sends a push notification through OneSignal's REST API with the App API
// key from the server environment (ONESIGNAL_API_KEY in .env.local locally, EAS environment
// variables when deployed). Anyone who can reach this route can notify your users: check who is
// calling (your own auth) before going live.
const ONESIGNAL_API = 'https://api.onesignal.com/notifications?c=push';

type SendRequest = {
  title?: unknown;
  message?: unknown;
  /** OneSignal external ids (set with `login` in the app); without them, the segment is used. */
  externalIds?: unknown;
  segment?: unknown;
  data?: unknown;
};

export async function POST(request: Request): Promise<Response> {
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
    ? body.externalIds.filter((id): id is string => typeof id === 'string')
    : [];
  const payload: Record<string, unknown> = {
    app_id: appId,
    target_channel: 'push',
    contents: { en: body.message },
    ...(typeof body.title === 'string' ? { headings: { en: body.title } } : {}),
    ...(body.data && typeof body.data === 'object' ? { data: body.data } : {}),
    ...(externalIds.length > 0
      ? { include_aliases: { external_id: externalIds } }
      : { included_segments: [typeof body.segment === 'string' ? body.segment : 'Total Subscriptions'] }),
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
