// A "Restore purchases" button (the App Store requires one when you sell subscriptions).
import { useState } from 'react';

import { restorePurchases, type CustomerInfo } from '../../services/purchases';
import { LinkButton, Message } from './FormControls';

export type RestorePurchasesProps = {
  /** Called only when something was restored. */
  onRestored?: (customerInfo: CustomerInfo) => void;
  /** Called when the store account had nothing to restore. */
  onNothingRestored?: () => void;
};

export function RestorePurchases({ onRestored, onNothingRestored }: RestorePurchasesProps) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; kind: 'error' | 'info' } | null>(null);

  async function restore() {
    if (busy) return;
    setBusy(true);
    setMessage(null);
    try {
      const { customerInfo, restored } = await restorePurchases();
      if (restored) {
        setMessage({ text: 'Your purchases were restored.', kind: 'info' });
        onRestored?.(customerInfo);
      } else {
        setMessage({ text: 'Nothing was restored: this store account has no earlier purchases.', kind: 'info' });
        onNothingRestored?.();
      }
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
