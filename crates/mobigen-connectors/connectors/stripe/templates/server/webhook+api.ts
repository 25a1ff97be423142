// Server-only API route for Stripe webhooks: verifies the `Stripe-Signature` header with
// STRIPE_WEBHOOK_SECRET (the endpoint's signing secret) before trusting an event. Point the
// endpoint at <your host>/api/stripe/webhook in the Stripe Dashboard.
import Stripe from 'stripe';

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
    case 'payment_intent.succeeded':
      // Fulfil the order for event.data.object.id here.
      break;
    case 'invoice.paid':
    case 'customer.subscription.deleted':
      // Grant or revoke access for the subscription's customer here.
      break;
    default:
      break;
  }
  return Response.json({ received: true });
}
