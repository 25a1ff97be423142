// Payment methods that leave the app (bank redirects, 3-D Secure) return to
// `<scheme>://stripe-redirect`, which Expo Router opens as the route `/stripe-redirect`. Stripe
// itself receives the same URL through `StripeRoot` (`handleURLCallback`); this screen only
// sends the user on to the app's first screen, instead of "Unmatched Route".
import { Redirect } from 'expo-router';

export default function StripeRedirect() {
  return <Redirect href="/" />;
}
