// Supabase Realtime: listen to row changes of a table (the table must be in the
// `supabase_realtime` publication) or to broadcast messages on a channel.
import type { RealtimePostgresChangesPayload } from '@supabase/supabase-js';

import type { Row, TableName } from '../types/supabase';
import { supabase } from './supabase';

/** The channels listed in the connector's config. */
export const CHANNELS: readonly string[] = {%json /features/realtime/channels%};

export type ChangeEvent = 'INSERT' | 'UPDATE' | 'DELETE' | '*';

/** Numbers the table subscriptions: each gets its own channel topic, so two subscribers to one table do not clash. */
let tableSubscriptions = 0;

/** Calls `onChange` for every change of `table`'s rows; returns the unsubscribe function. */
export function subscribeToTable<Name extends TableName>(
  table: Name,
  onChange: (payload: RealtimePostgresChangesPayload<Row<Name>>) => void,
  event: ChangeEvent = '*',
): () => void {
  const channel = supabase
    .channel(`table:${table}:${(tableSubscriptions += 1)}`)
    .on<Row<Name>>('postgres_changes', { event, schema: 'public', table }, onChange)
    .subscribe();
  return () => {
    supabase.removeChannel(channel);
  };
}

/** Calls `onMessage` for each broadcast `event` on `channelName`; returns the unsubscribe function. */
export function subscribeToBroadcast(
  channelName: string,
  event: string,
  onMessage: (payload: Record<string, unknown>) => void,
): () => void {
  const channel = supabase
    .channel(channelName)
    .on('broadcast', { event }, (message) => onMessage(message.payload ?? {}))
    .subscribe();
  return () => {
    supabase.removeChannel(channel);
  };
}

/** Sends a broadcast message on `channelName`. */
export async function broadcast(channelName: string, event: string, payload: Record<string, unknown>): Promise<void> {
  await supabase.channel(channelName).send({ type: 'broadcast', event, payload });
}
