// Stripe's provider for the app root (used by src/connectors.tsx). The publishable key comes
// from EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY; the URL scheme (for 3-D Secure and bank redirects)
// from app.json `scheme`. On the web, Metro picks `StripeRoot.web.tsx` instead.
import type { ReactElement } from 'react';
import { StripeProvider } from '@stripe/stripe-react-native';
import Constants from 'expo-constants';

const scheme = Constants.expoConfig?.scheme;
const urlScheme = Array.isArray(scheme) ? scheme[0] : scheme;

export function StripeRoot({ children }: { children: ReactElement | ReactElement[] }) {
  return (
    <StripeProvider
      publishableKey={process.env.EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY ?? ''}
      merchantIdentifier={{%json /merchantIdentifier%}}
      urlScheme={urlScheme}
    >
      {children}
    </StripeProvider>
  );
}
