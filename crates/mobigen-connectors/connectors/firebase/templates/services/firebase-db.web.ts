// Web stand-in for the Firestore service: React Native Firebase is native-only, so the database
// is not available on the web. Every call fails with a clear message (never empty data that
// looks real). Same exports as `firebase-db.ts`.
import type { DocumentData } from '@react-native-firebase/firestore';

export type { DocumentData };

/** Whether the database works on this platform (false on the web). */
export const firestoreAvailable = false;

export type StoredDocument<T extends DocumentData = DocumentData> = { id: string; data: T };

const unavailable = () => new Error('The database is not available on the web: it is available in the iOS and Android apps.');

export async function getDocument<T extends DocumentData = DocumentData>(_path: string): Promise<T | null> {
  throw unavailable();
}

export async function setDocument(_path: string, _data: DocumentData, _merge = true): Promise<void> {
  throw unavailable();
}

export async function addDocument(_collectionPath: string, _data: DocumentData): Promise<string> {
  throw unavailable();
}

export async function deleteDocument(_path: string): Promise<void> {
  throw unavailable();
}

/** Reports the database as unavailable through `onError`; `listener` is never called with made-up data. */
export function subscribeToCollection<T extends DocumentData = DocumentData>(
  _collectionPath: string,
  _listener: (documents: StoredDocument<T>[]) => void,
  onError?: (error: Error) => void,
): () => void {
  onError?.(unavailable());
  return () => {};
}
