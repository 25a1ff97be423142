// The app's Supabase client, set up as Supabase recommends for React Native: URL polyfill first,
// sessions in AsyncStorage (not on the web), no URL session detection, and token auto-refresh
// only while the app is in the foreground. Only the public (publishable or anon) key reaches the
// app; the secret key stays in .env.local for server code.
import 'react-native-url-polyfill/auto';
import AsyncStorage from '@react-native-async-storage/async-storage';
import { createClient, processLock } from '@supabase/supabase-js';
import { AppState, Platform } from 'react-native';

import type { Database } from '../types/supabase';

export const supabase = createClient<Database>(
  process.env.EXPO_PUBLIC_SUPABASE_URL!,
  process.env.EXPO_PUBLIC_SUPABASE_KEY!,
  {
    auth: {
      ...(Platform.OS !== 'web' ? { storage: AsyncStorage } : {}),
      autoRefreshToken: true,
      persistSession: true,
      detectSessionInUrl: false,
      lock: processLock,
//#if feature.auth
      // OAuth and magic links come back to the app with a code to exchange (supabase-auth.ts).
      flowType: 'pkce',
//#endif
    },
  },
);

if (Platform.OS !== 'web') {
  AppState.addEventListener('change', (state) => {
    if (state === 'active') {
      supabase.auth.startAutoRefresh();
    } else {
      supabase.auth.stopAutoRefresh();
    }
  });
}
