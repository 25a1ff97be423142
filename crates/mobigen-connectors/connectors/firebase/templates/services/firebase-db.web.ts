// Web stand-in for the Firestore service: React Native Firebase is native-only. Reads find
// nothing, writes fail with a clear message. Same exports as `firebase-db.ts`.
import type { DocumentData } from '@react-native-firebase/firestore';

export type { DocumentData };

export type StoredDocument<T extends DocumentData = DocumentData> = { id: string; data: T };

const unavailable = () => new Error('The database is available in the iOS and Android apps.');

export async function getDocument<T extends DocumentData = DocumentData>(_path: string): Promise<T | null> {
  return null;
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

export function subscribeToCollection<T extends DocumentData = DocumentData>(
  _collectionPath: string,
  listener: (documents: StoredDocument<T>[]) => void,
  _onError?: (error: Error) => void,
): () => void {
  listener([]);
  return () => {};
}
