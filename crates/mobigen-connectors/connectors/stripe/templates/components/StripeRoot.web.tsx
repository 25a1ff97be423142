// Web stand-in for StripeRoot: Stripe's React Native SDK is native-only, so the app renders
// without a Stripe provider on the web (the Stripe service reports payments as unavailable).
import type { ReactElement } from 'react';

export function StripeRoot({ children }: { children: ReactElement | ReactElement[] }) {
  return <>{children}</>;
}
