// Magic links, email confirmations and OAuth providers send the user back to
// `<scheme>://auth-callback`, which Expo Router opens as the route `/auth-callback`. The sign-in
// itself is completed by `startSupabase` (services/supabase.ts), which receives the same URL;
// this screen only sends the user on to the app's first screen, instead of "Unmatched Route".
import { Redirect } from 'expo-router';

export default function SupabaseAuthCallback() {
  return <Redirect href="/" />;
}
