// Cloud Firestore on the web, through the Firebase JS SDK (React Native Firebase is
// native-only): the same exports as `firebase-db.ts`, which Metro picks on iOS and Android.
// Paths are slash-separated (`users/alice`, `users/alice/orders`). The web app's config comes
// from the EXPO_PUBLIC_FIREBASE_* variables (see `firebase-web.ts`).
import {
  addDoc,
  collection,
  deleteDoc,
  doc,
  getDoc,
  getFirestore as existingFirestore,
  initializeFirestore,
  memoryLocalCache,
  onSnapshot,
  persistentLocalCache,
  persistentMultipleTabManager,
  serverTimestamp,
  setDoc,
  type DocumentData,
  type Firestore,
} from 'firebase/firestore';

import { firebaseWebApp } from './firebase-web';

export type { DocumentData };

/** Whether the database works on this platform (it does on the web too). */
export const firestoreAvailable = true;

/** `persistenceEnabled` of the connector's config: keep an offline copy of the data in the browser (IndexedDB). */
const PERSISTENCE_ENABLED: boolean = {%json /features/firestore/persistenceEnabled%};

let firestore: Firestore | null = null;

/** The Firestore instance, set up once with the config's offline persistence (shared by the browser's tabs). */
function getFirestore(): Firestore {
  if (!firestore) {
    const app = firebaseWebApp();
    try {
      firestore = initializeFirestore(app, {
        localCache: PERSISTENCE_ENABLED
          ? persistentLocalCache({ tabManager: persistentMultipleTabManager() })
          : memoryLocalCache(),
      });
    } catch {
      // Set up before this module was (re)loaded, e.g. by a fast refresh: use that instance.
      firestore = existingFirestore(app);
    }
  }
  return firestore;
}

/** A document's id with its data. */
export type StoredDocument<T extends DocumentData = DocumentData> = { id: string; data: T };

/** Reads one document; null when it does not exist. */
export async function getDocument<T extends DocumentData = DocumentData>(path: string): Promise<T | null> {
  const snapshot = await getDoc(doc(getFirestore(), path));
  return snapshot.exists() ? (snapshot.data() as T) : null;
}

/** Writes a document (merged into an existing one by default), stamping `updatedAt`. */
export function setDocument(path: string, data: DocumentData, merge = true): Promise<void> {
  return setDoc(doc(getFirestore(), path), { ...data, updatedAt: serverTimestamp() }, { merge });
}

/** Adds a document with a generated id to a collection; resolves to the id. */
export async function addDocument(collectionPath: string, data: DocumentData): Promise<string> {
  const created = await addDoc(collection(getFirestore(), collectionPath), {
    ...data,
    createdAt: serverTimestamp(),
  });
  return created.id;
}

/** Deletes a document. */
export function deleteDocument(path: string): Promise<void> {
  return deleteDoc(doc(getFirestore(), path));
}

/** Calls `listener` with every document of a collection now and on every change; returns the unsubscribe function. */
export function subscribeToCollection<T extends DocumentData = DocumentData>(
  collectionPath: string,
  listener: (documents: StoredDocument<T>[]) => void,
  onError?: (error: Error) => void,
): () => void {
  return onSnapshot(
    collection(getFirestore(), collectionPath),
    (snapshot) => listener(snapshot.docs.map((d) => ({ id: d.id, data: d.data() as T }))),
    onError,
  );
}
