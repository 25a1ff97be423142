// Server-only API route for Stripe webhooks: verifies the `Stripe-Signature` header with
// STRIPE_WEBHOOK_SECRET (the endpoint's signing secret) before trusting an event, and fulfils a
// payment only when the amount paid is the server's price for what was bought. Point the endpoint
// at <your host>/api/stripe/webhook in the Stripe Dashboard.
import Stripe from 'stripe';

const DEFAULT_CURRENCY: string = {%json /currency%};
/** Product id -> price in the currency's smallest unit, from the connector's config. */
const PRICES: Record<string, { amount: number; currency?: string }> = {%json /prices%};

/** The amount and currency the server charges for what `intent` was created for, or null. */
async function expectedPrice(stripe: Stripe, intent: Stripe.PaymentIntent): Promise<{ amount: number; currency: string } | null> {
  const productId = intent.metadata?.productId;
  if (productId && Object.prototype.hasOwnProperty.call(PRICES, productId)) {
    const price = PRICES[productId];
    return { amount: price.amount, currency: price.currency ?? DEFAULT_CURRENCY };
  }
  const priceId = intent.metadata?.priceId;
  if (priceId) {
    const price = await stripe.prices.retrieve(priceId).catch(() => null);
    if (price && typeof price.unit_amount === 'number') {
      return { amount: price.unit_amount, currency: price.currency };
    }
  }
  return null;
}

export async function POST(request: Request): Promise<Response> {
  const secretKey = process.env.STRIPE_SECRET_KEY;
  const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET;
  if (!secretKey || !webhookSecret) {
    return Response.json({ error: 'STRIPE_SECRET_KEY or STRIPE_WEBHOOK_SECRET is not set on the server' }, { status: 500 });
  }
  const signature = request.headers.get('stripe-signature');
  if (!signature) {
    return Response.json({ error: 'missing Stripe-Signature header' }, { status: 400 });
  }
  // The signature covers the raw body: read it as text, never re-serialised JSON.
  const payload = await request.text();
  const stripe = new Stripe(secretKey);
  let event: Stripe.Event;
  try {
    event = await stripe.webhooks.constructEventAsync(payload, signature, webhookSecret);
  } catch {
    return Response.json({ error: 'invalid signature' }, { status: 400 });
  }
  switch (event.type) {
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      const expected = await expectedPrice(stripe, intent);
      if (!expected || intent.amount_received !== expected.amount || intent.currency !== expected.currency.toLowerCase()) {
        // Paid something other than the server's price: do not fulfil (acknowledged, so Stripe
        // does not retry; review it in the Dashboard).
        return Response.json({ received: true, fulfilled: false, reason: 'the amount paid is not the price of the product' });
      }
      // Fulfil the order for intent.metadata.userId and intent.metadata.productId (or priceId) here.
      return Response.json({ received: true, fulfilled: true });
    }
    case 'invoice.paid':
    case 'customer.subscription.deleted':
      // Grant or revoke access for the subscription's customer (metadata.userId) here.
      break;
    default:
      break;
  }
  return Response.json({ received: true });
}
