// Server-only API route: subscribes the signed-in user (a Stripe customer found or created by
// email) to a recurring Stripe Price and returns the client secret of the first invoice's
// payment, for the app's PaymentSheet. The price is read from Stripe, never from the client.
// Reads STRIPE_SECRET_KEY from the server environment (.env.local locally, EAS environment
// variables when deployed).
import Stripe from 'stripe';

import { authenticatedCaller } from '{%module src/server/stripe-auth%}';

export async function POST(request: Request): Promise<Response> {
  const caller = await authenticatedCaller(request);
  if (!caller) {
    return Response.json({ error: 'sign in first: this route needs a valid session token' }, { status: 401 });
  }
  const secretKey = process.env.STRIPE_SECRET_KEY;
  if (!secretKey) {
    return Response.json({ error: 'STRIPE_SECRET_KEY is not set on the server' }, { status: 500 });
  }
  const body = (await request.json().catch(() => null)) as { priceId?: unknown; email?: unknown } | null;
  const priceId = body?.priceId;
  const email = body?.email;
  if (typeof priceId !== 'string' || !priceId.startsWith('price_')) {
    return Response.json({ error: 'priceId must be a Stripe Price id (price_...)' }, { status: 400 });
  }
  if (typeof email !== 'string' || !email.includes('@')) {
    return Response.json({ error: 'email must be an email address' }, { status: 400 });
  }
  const stripe = new Stripe(secretKey);
  const price = await stripe.prices.retrieve(priceId).catch(() => null);
  if (!price || !price.active || price.type !== 'recurring') {
    return Response.json({ error: 'priceId is not an active recurring Stripe Price' }, { status: 400 });
  }
  const existing = await stripe.customers.search({ query: `metadata['userId']:'${caller.replace(/'/g, '')}'`, limit: 1 });
  const customer = existing.data[0] ?? (await stripe.customers.create({ email, metadata: { userId: caller } }));
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
    metadata: { userId: caller },
    payment_behavior: 'default_incomplete',
    payment_settings: { save_default_payment_method: 'on_subscription' },
    expand: ['latest_invoice.confirmation_secret'],
  });
  const invoice = subscription.latest_invoice;
  const clientSecret = typeof invoice === 'object' ? invoice?.confirmation_secret?.client_secret : undefined;
  if (!clientSecret) {
    return Response.json({ error: 'the subscription has no payment to confirm' }, { status: 502 });
  }
  return Response.json({ subscriptionId: subscription.id, clientSecret });
}
