// Cloud Firestore through React Native Firebase's modular API. Paths are slash-separated
// (`users/alice`, `users/alice/orders`). On the web, Metro picks `firebase-db.web.ts` instead (the Firebase JS SDK).
import { getApp } from '@react-native-firebase/app';
import {
  addDoc,
  collection,
  deleteDoc,
  doc,
  getDoc,
  initializeFirestore,
  onSnapshot,
  serverTimestamp,
  setDoc,
  type DocumentData,
  type Firestore,
} from '@react-native-firebase/firestore';

export type { DocumentData };

/** Whether the database works on this platform (it does on the web too). */
export const firestoreAvailable = true;

/** `persistenceEnabled` of the connector's config: keep an offline copy of the data on the device. */
const PERSISTENCE_ENABLED: boolean = {%json /features/firestore/persistenceEnabled%};

let firestore: Firestore | null = null;

/** The Firestore instance, set up once with the config's offline persistence. */
function getFirestore(): Firestore {
  if (!firestore) {
    firestore = initializeFirestore(getApp(), { persistence: PERSISTENCE_ENABLED });
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
