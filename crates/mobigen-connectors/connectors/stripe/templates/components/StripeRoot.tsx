// Stripe's provider for the app root (used by src/connectors.tsx). The publishable key comes
// from EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY; the URL scheme (for 3-D Secure and bank redirects)
// from app.json `scheme`; links back into the app after a bank or 3-D Secure page are handed to
// Stripe (`handleURLCallback`). On the web, Metro picks `StripeRoot.web.tsx` instead.
import { useEffect, type ReactElement } from 'react';
import { StripeProvider, useStripe } from '@stripe/stripe-react-native';
import Constants from 'expo-constants';
import * as Linking from 'expo-linking';

const scheme = Constants.expoConfig?.scheme;
const urlScheme = Array.isArray(scheme) ? scheme[0] : scheme;

/** Hands the URLs the app is opened with to Stripe, which completes a redirect-based payment. */
function StripeUrlHandler(): null {
  const { handleURLCallback } = useStripe();
  useEffect(() => {
    const handle = (url: string | null) => {
      // Stripe answers false for URLs that are not its own; those are left to the app.
      if (url) handleURLCallback(url).catch(() => false);
    };
    Linking.getInitialURL().then(handle, () => undefined);
    const subscription = Linking.addEventListener('url', ({ url }) => handle(url));
    return () => subscription.remove();
  }, [handleURLCallback]);
  return null;
}

export function StripeRoot({ children }: { children: ReactElement | ReactElement[] }) {
  return (
    <StripeProvider
      publishableKey={process.env.EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY ?? ''}
      merchantIdentifier={{%json /merchantIdentifier%}}
      urlScheme={urlScheme}
    >
      <>
        <StripeUrlHandler />
        {children}
      </>
    </StripeProvider>
  );
}
