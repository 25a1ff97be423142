// A "Restore purchases" button (the App Store requires one when you sell subscriptions).
import { useState } from 'react';

import { ENTITLEMENTS, restorePurchases, type CustomerInfo } from '../../services/purchases';
import { LinkButton, Message } from './FormControls';

export type RestorePurchasesProps = {
  onRestored?: (customerInfo: CustomerInfo) => void;
};

export function RestorePurchases({ onRestored }: RestorePurchasesProps) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; kind: 'error' | 'info' } | null>(null);

  async function restore() {
    if (busy) return;
    setBusy(true);
    setMessage(null);
    try {
      const info = await restorePurchases();
      const active = ENTITLEMENTS.length > 0 ? ENTITLEMENTS.some((id) => id in info.entitlements.active) : Object.keys(info.entitlements.active).length > 0;
      setMessage({ text: active ? 'Your purchases were restored.' : 'No purchases to restore were found.', kind: 'info' });
      onRestored?.(info);
    } catch (e) {
      setMessage({ text: e instanceof Error ? e.message : 'Restoring failed.', kind: 'error' });
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <LinkButton label={busy ? 'Restoring…' : 'Restore purchases'} onPress={restore} />
      <Message text={message?.text ?? null} kind={message?.kind} />
    </>
  );
}
