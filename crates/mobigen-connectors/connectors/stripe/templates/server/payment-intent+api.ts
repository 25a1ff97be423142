// Server-only API route: creates a Stripe PaymentIntent for a product the caller names. The
// server decides the price: from the price table in the connector's config (`prices`), or from a
// one-time Stripe Price (`price_...`) read from Stripe; an amount sent by the client is ignored.
// Only signed-in users may call it (see `authenticatedCaller` in src/server/stripe-auth.ts). Reads STRIPE_SECRET_KEY
// from the server environment (.env.local locally, EAS environment variables when deployed).
import Stripe from 'stripe';

import { authenticatedCaller } from '{%module src/server/stripe-auth%}';

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
