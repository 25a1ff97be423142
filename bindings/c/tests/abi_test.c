/* Tests of the C ABI's contract: NULL handles and arguments, invalid UTF-8, wrong lengths,
 * double frees, messages, outputs written only on success, and the vault. Built with
 * AddressSanitizer and UndefinedBehaviorSanitizer by `cargo xtask test`.
 *
 * Usage: abi_test PROJECT_DIR KEYRING_PATH */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mobigen_connectors.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        checks++;                                                                       \
        if (!(cond)) {                                                                  \
            failures++;                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, __LINE__, \
                    #cond, mgc_last_error());                                           \
        }                                                                               \
    } while (0)

static int contains(const char *text, const char *part) { return strstr(text, part) != NULL; }

static unsigned long long fnv1a(unsigned long long hash, const void *data, size_t len) {
    const unsigned char *bytes = data;
    size_t i;
    for (i = 0; i < len; i++) {
        hash = (hash ^ bytes[i]) * 1099511628211ULL;
    }
    return hash;
}

/* A fingerprint of `path` and everything below it (names, kinds, modes, contents, link
 * targets; not times), independent of the order the folder lists them in: equal before and
 * after a refused call means the call changed no file. */
static unsigned long long tree_fingerprint(const char *path) {
    struct stat st;
    unsigned long long hash = fnv1a(14695981039346656037ULL, path, strlen(path));
    if (lstat(path, &st) != 0) {
        return fnv1a(hash, "missing", 7);
    }
    hash = fnv1a(hash, &st.st_mode, sizeof st.st_mode);
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        struct dirent *entry;
        char child[4096];
        while (dir != NULL && (entry = readdir(dir)) != NULL) {
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) {
                continue;
            }
            snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
            hash += tree_fingerprint(child); /* a sum: the listing order does not matter */
        }
        if (dir != NULL) {
            closedir(dir);
        }
    } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(path, target, sizeof target);
        hash = fnv1a(hash, target, n > 0 ? (size_t)n : 0);
    } else {
        FILE *file = fopen(path, "rb");
        char buffer[4096];
        size_t n;
        while (file != NULL && (n = fread(buffer, 1, sizeof buffer, file)) > 0) {
            hash = fnv1a(hash, buffer, n);
        }
        if (file != NULL) {
            fclose(file);
        }
    }
    return hash;
}

static void test_null_and_bad_arguments(mgc_registry *registry) {
    mgc_string *out = NULL;
    mgc_string *sentinel = (mgc_string *)0x1;
    const char bad_utf8[] = {'s', (char)0xff, 'x'};

    CHECK(mgc_registry_new(NULL) == MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "out is NULL"));
    CHECK(mgc_registry_list_json(NULL, NULL, 0, &out) == MGC_RESULT_NULL_ARGUMENT);
    CHECK(out == NULL);
    CHECK(mgc_registry_get_json(registry, "stripe", 6, NULL) == MGC_RESULT_NULL_ARGUMENT);
    /* NULL with a non-zero length. */
    CHECK(mgc_registry_get_json(registry, NULL, 6, &out) == MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "id is NULL with length 6"));
    /* Invalid UTF-8. */
    CHECK(mgc_registry_get_json(registry, bad_utf8, sizeof bad_utf8, &out) == MGC_RESULT_INVALID_UTF8);
    CHECK(contains(mgc_last_error(), "not UTF-8 (at byte 1)"));
    CHECK(out == NULL);
    /* A length no object can have. */
    CHECK(mgc_registry_get_json(registry, "stripe", (size_t)-1, &out) == MGC_RESULT_INVALID_LENGTH);
    /* A pointer that is not a live handle is refused without being touched. */
    CHECK(mgc_registry_list_json((const mgc_registry *)&checks, NULL, 0, &out) == MGC_RESULT_INVALID_HANDLE);
    /* Outputs are written only on success. */
    out = sentinel;
    CHECK(mgc_registry_get_json(registry, "strpe", 5, &out) == MGC_RESULT_UNKNOWN_CONNECTOR);
    CHECK(contains(mgc_last_error(), "did you mean `stripe`"));
    CHECK(out == sentinel);
    out = NULL;
    CHECK(mgc_registry_list_json(registry, "games", 5, &out) == MGC_RESULT_UNKNOWN_CONNECTOR);
    CHECK(mgc_validate_config(registry, "stripe", 6, "{not json", 9, &out) == MGC_RESULT_INVALID_JSON);
    CHECK(contains(mgc_last_error(), "config:1:2: not valid JSON"));
    /* The message is reset by the next successful call. */
    CHECK(mgc_registry_get_json(registry, "stripe", 6, &out) == MGC_RESULT_OK);
    CHECK(strcmp(mgc_last_error(), "") == 0);
    CHECK(mgc_string_len(out) == strlen(mgc_string_ptr(out)));
    CHECK(contains(mgc_string_ptr(out), "\"configSchema\""));
    CHECK(mgc_string_free(out) == MGC_RESULT_OK);
}

static void test_frees(void) {
    mgc_registry *registry = NULL;
    mgc_string *out = NULL;
    CHECK(mgc_registry_free(NULL) == MGC_RESULT_OK);
    CHECK(mgc_string_free(NULL) == MGC_RESULT_OK);
    CHECK(mgc_bytes_free(NULL) == MGC_RESULT_OK);
    CHECK(mgc_vault_free(NULL) == MGC_RESULT_OK);
    CHECK(mgc_registry_new(&registry) == MGC_RESULT_OK);
    CHECK(mgc_registry_search_json(registry, "strpe", 5, &out) == MGC_RESULT_OK);
    CHECK(contains(mgc_string_ptr(out), "\"id\":\"stripe\""));
    CHECK(mgc_string_free(out) == MGC_RESULT_OK);
    /* A second free is detected, not a crash. */
    CHECK(mgc_string_free(out) == MGC_RESULT_INVALID_HANDLE);
    CHECK(mgc_string_ptr(out) == NULL);
    CHECK(mgc_string_len(out) == 0);
    CHECK(mgc_registry_free(registry) == MGC_RESULT_OK);
    CHECK(mgc_registry_free(registry) == MGC_RESULT_INVALID_HANDLE);
    CHECK(contains(mgc_last_error(), "freed twice"));
    /* A freed registry is refused by every call. */
    CHECK(mgc_registry_list_json(registry, NULL, 0, &out) == MGC_RESULT_INVALID_HANDLE);
    /* A string handle is not a registry handle. */
    CHECK(mgc_registry_new(&registry) == MGC_RESULT_OK);
    CHECK(mgc_registry_list_json(registry, "push", 4, &out) == MGC_RESULT_OK);
    CHECK(mgc_registry_free((mgc_registry *)out) == MGC_RESULT_INVALID_HANDLE);
    CHECK(mgc_string_free(out) == MGC_RESULT_OK);
    CHECK(mgc_registry_free(registry) == MGC_RESULT_OK);
}

static void test_config_and_project(mgc_registry *registry, const char *project) {
    mgc_string *out = NULL;
    const char *bad = "{\"publishableKey\":\"pk_test_1\",\"secretKey\":\"pk_test_1\"}";
    const char *good = "{\"publishableKey\":\"pk_test_51Abc\",\"secretKey\":\"sk_test_51VerySecret\"}";
    CHECK(mgc_validate_config(registry, "stripe", 6, bad, strlen(bad), &out) == MGC_RESULT_INVALID_CONFIG);
    CHECK(contains(mgc_last_error(), "/secretKey"));
    CHECK(out == NULL);
    CHECK(mgc_validate_config(registry, "stripe", 6, good, strlen(good), &out) == MGC_RESULT_OK);
    CHECK(contains(mgc_string_ptr(out), "[redacted]"));
    CHECK(!contains(mgc_string_ptr(out), "sk_test_51VerySecret"));
    mgc_string_free(out);

    CHECK(mgc_project_add(registry, project, strlen(project), "stripe", 6, good, strlen(good), MGC_DRY_RUN, &out) ==
          MGC_RESULT_OK);
    CHECK(contains(mgc_string_ptr(out), "\"dryRun\":true"));
    mgc_string_free(out);
    CHECK(mgc_project_remove(registry, project, strlen(project), "stripe", 6, 0, &out) == MGC_RESULT_NOT_ENABLED);
    CHECK(contains(mgc_last_error(), "not enabled"));
    CHECK(mgc_project_add(registry, "/nonexistent/dir", 16, "stripe", 6, good, strlen(good), 0, &out) ==
          MGC_RESULT_PROJECT_ERROR);
    CHECK(contains(mgc_last_error(), "no package.json"));
    CHECK(mgc_project_add(registry, project, strlen(project), "stripe", 6, good, strlen(good), 0, &out) == MGC_RESULT_OK);
    CHECK(contains(mgc_string_ptr(out), "\"kind\":\"add\""));
    mgc_string_free(out);
    CHECK(mgc_project_status(registry, project, strlen(project), &out) == MGC_RESULT_OK);
    CHECK(contains(mgc_string_ptr(out), "\"id\":\"stripe\""));
    mgc_string_free(out);
    CHECK(mgc_project_remove(registry, project, strlen(project), "stripe", 6, 0, &out) == MGC_RESULT_OK);
    CHECK(contains(mgc_string_ptr(out), "\"kind\":\"remove\""));
    mgc_string_free(out);
}

static void test_supplied_files(mgc_registry *registry, const char *project) {
    mgc_string *out = NULL;
    const char *config = "{\"projectUrl\":\"https://abcdefghij.supabase.co\",\"anonKey\":\"sb_publishable_abc\"}";
    const char *types = "{\"databaseTypes\":\"export type Database = { public: { Tables: {} } }\"}";
    const char *unknown = "{\"schema\":\"export {}\"}";
    const char *broken = "{\"databaseTypes\":\"<html>502</html>\"}";
    const char *not_text = "{\"databaseTypes\":42}";
    size_t plen = strlen(project), clen = strlen(config);

    CHECK(mgc_project_add_supplied(registry, project, plen, "supabase", 8, config, clen, unknown, strlen(unknown), 0,
                                   &out) == MGC_RESULT_INVALID_SUPPLIED);
    CHECK(contains(mgc_last_error(), "it declares databaseTypes"));
    CHECK(mgc_project_add_supplied(registry, project, plen, "supabase", 8, config, clen, broken, strlen(broken), 0,
                                   &out) == MGC_RESULT_INVALID_SUPPLIED);
    CHECK(contains(mgc_last_error(), "src/types/supabase-database.ts:1:"));
    CHECK(mgc_project_add_supplied(registry, project, plen, "supabase", 8, config, clen, not_text, strlen(not_text), 0,
                                   &out) == MGC_RESULT_INVALID_SUPPLIED);
    CHECK(mgc_project_add_supplied(registry, project, plen, "supabase", 8, config, clen, "[]", 2, 0, &out) ==
          MGC_RESULT_INVALID_SUPPLIED);
    CHECK(mgc_project_add_supplied(registry, project, plen, "supabase", 8, config, clen, "{", 1, 0, &out) ==
          MGC_RESULT_INVALID_JSON);
    CHECK(mgc_project_add_supplied(registry, project, plen, "supabase", 8, config, clen, NULL, 0, 0, &out) ==
          MGC_RESULT_INVALID_JSON); /* NULL with length 0 is the empty string */
    CHECK(mgc_project_add_supplied(registry, project, plen, "supabase", 8, config, clen, NULL, 5, 0, &out) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(out == NULL);
    CHECK(mgc_project_add_supplied(registry, project, plen, "supabase", 8, config, clen, types, strlen(types), 0,
                                   &out) == MGC_RESULT_OK);
    CHECK(contains(mgc_string_ptr(out), "src/types/supabase-database.ts"));
    mgc_string_free(out);
    CHECK(mgc_project_remove(registry, project, plen, "supabase", 8, 0, &out) == MGC_RESULT_OK);
    mgc_string_free(out);
}

static void test_vault(const char *keyring) {
    mgc_vault *vault = NULL;
    mgc_string *cipher = NULL, *rewrapped = NULL, *key_id = NULL;
    mgc_bytes *plain = NULL;
    const char secret[] = "sk_test_51VerySecretValue";
    char *tampered;
    size_t len;

    CHECK(mgc_vault_open(NULL, 0, &vault) == MGC_RESULT_NULL_ARGUMENT);
    CHECK(mgc_vault_open(keyring, strlen(keyring), &vault) == MGC_RESULT_OK);
    CHECK(mgc_vault_encrypt(vault, "prj-1", 5, "stripe", 6, (const uint8_t *)secret, strlen(secret), &cipher) ==
          MGC_RESULT_OK);
    CHECK(strncmp(mgc_string_ptr(cipher), "mgv1:", 5) == 0);
    CHECK(!contains(mgc_string_ptr(cipher), secret));
    CHECK(mgc_vault_decrypt(vault, "prj-1", 5, "stripe", 6, mgc_string_ptr(cipher), mgc_string_len(cipher), &plain) ==
          MGC_RESULT_OK);
    CHECK(mgc_bytes_len(plain) == strlen(secret) && memcmp(mgc_bytes_ptr(plain), secret, strlen(secret)) == 0);
    CHECK(mgc_bytes_free(plain) == MGC_RESULT_OK);
    CHECK(mgc_bytes_free(plain) == MGC_RESULT_INVALID_HANDLE);
    /* Another project or connector cannot decrypt it. */
    plain = NULL;
    CHECK(mgc_vault_decrypt(vault, "prj-2", 5, "stripe", 6, mgc_string_ptr(cipher), mgc_string_len(cipher), &plain) ==
          MGC_RESULT_DECRYPTION_FAILED);
    CHECK(plain == NULL);
    CHECK(mgc_vault_decrypt(vault, "prj-1", 5, "supabase", 8, mgc_string_ptr(cipher), mgc_string_len(cipher), &plain) ==
          MGC_RESULT_DECRYPTION_FAILED);
    /* Tampering and truncation. */
    len = mgc_string_len(cipher);
    tampered = malloc(len);
    memcpy(tampered, mgc_string_ptr(cipher), len);
    tampered[len - 3] = tampered[len - 3] == 'A' ? 'B' : 'A';
    CHECK(mgc_vault_decrypt(vault, "prj-1", 5, "stripe", 6, tampered, len, &plain) == MGC_RESULT_DECRYPTION_FAILED);
    CHECK(!contains(mgc_last_error(), secret));
    CHECK(mgc_vault_decrypt(vault, "prj-1", 5, "stripe", 6, tampered, 10, &plain) == MGC_RESULT_DECRYPTION_FAILED);
    free(tampered);
    /* Rotation: a new key; the old ciphertext still decrypts, and rewrap moves it to the new key. */
    CHECK(mgc_vault_rotate(vault, &key_id) == MGC_RESULT_OK);
    CHECK(mgc_string_len(key_id) > 0);
    CHECK(mgc_vault_rewrap(vault, "prj-1", 5, "stripe", 6, mgc_string_ptr(cipher), mgc_string_len(cipher), &rewrapped) ==
          MGC_RESULT_OK);
    CHECK(strcmp(mgc_string_ptr(rewrapped), mgc_string_ptr(cipher)) != 0);
    CHECK(mgc_vault_decrypt(vault, "prj-1", 5, "stripe", 6, mgc_string_ptr(rewrapped), mgc_string_len(rewrapped),
                            &plain) == MGC_RESULT_OK);
    CHECK(mgc_bytes_len(plain) == strlen(secret));
    mgc_bytes_free(plain);
    mgc_string_free(rewrapped);
    mgc_string_free(key_id);
    mgc_string_free(cipher);
    CHECK(mgc_vault_free(vault) == MGC_RESULT_OK);
    CHECK(mgc_vault_free(vault) == MGC_RESULT_INVALID_HANDLE);
}

/* The activity of the stored stripe instance of `prj-c`: listed with the instance, recorded by a
 * host's own use, and hostile events refused without a change. */
static void test_store_activity(mgc_store *store) {
    mgc_string *out = NULL;
    char id[64] = {0};
    const char *at;
    const char *failed = "{\"kind\":\"validation\",\"apiCalls\":2,\"error\":\"HTTP 401 from Stripe\"}";
    CHECK(mgc_store_instances(store, "prj-c", 5, &out) == MGC_RESULT_OK);
    CHECK(out != NULL && contains(mgc_string_ptr(out), "\"apiCallsToday\":0"));
    at = out != NULL ? strstr(mgc_string_ptr(out), "\"id\":\"") : NULL;
    CHECK(at != NULL);
    if (at != NULL) memcpy(id, at + 6, 36);
    mgc_string_free(out);
    out = NULL;
    CHECK(mgc_store_instances(store, "prj-none", 8, &out) == MGC_RESULT_OK);
    CHECK(out != NULL && strcmp(mgc_string_ptr(out), "[]") == 0);
    mgc_string_free(out);
    out = NULL;

    CHECK(mgc_store_record_activity(store, id, strlen(id), failed, strlen(failed)) == MGC_RESULT_OK);
    CHECK(mgc_store_record_activity(store, id, strlen(id), "{\"kind\":\"test\",\"apiCalls\":3}", strlen("{\"kind\":\"test\",\"apiCalls\":3}")) ==
          MGC_RESULT_OK);
    /* Hostile events: each refused with a message naming what is wrong. */
    CHECK(mgc_store_record_activity(store, id, strlen(id), "{\"kind\":\"hack\"}", strlen("{\"kind\":\"hack\"}")) == MGC_RESULT_INVALID_CONFIG);
    CHECK(contains(mgc_last_error(), "unknown activity kind `hack`"));
    CHECK(mgc_store_record_activity(store, id, strlen(id), "{\"kind\":\"test\",\"apiCalls\":-1}", strlen("{\"kind\":\"test\",\"apiCalls\":-1}")) ==
          MGC_RESULT_INVALID_CONFIG);
    CHECK(contains(mgc_last_error(), "`apiCalls` must be an integer"));
    CHECK(mgc_store_record_activity(store, id, strlen(id), "{\"kind\":\"test\",\"at\":1}", strlen("{\"kind\":\"test\",\"at\":1}")) ==
          MGC_RESULT_INVALID_CONFIG);
    CHECK(contains(mgc_last_error(), "unknown member `at`"));
    CHECK(mgc_store_record_activity(store, id, strlen(id), "[1", strlen("[1")) == MGC_RESULT_INVALID_JSON);
    CHECK(mgc_store_record_activity(store, "00000000-0000-4000-8000-000000000000", 36, "{\"kind\":\"test\"}", strlen("{\"kind\":\"test\"}")) ==
          MGC_RESULT_NOT_FOUND);
    CHECK(mgc_store_record_activity(NULL, id, strlen(id), "{\"kind\":\"test\"}", strlen("{\"kind\":\"test\"}")) == MGC_RESULT_NULL_ARGUMENT);
    CHECK(mgc_store_instances(store, "prj-c", 5, NULL) == MGC_RESULT_NULL_ARGUMENT);

    CHECK(mgc_store_instances(store, "", 0, &out) == MGC_RESULT_OK);
    CHECK(out != NULL && contains(mgc_string_ptr(out), "\"apiCallsToday\":5"));
    CHECK(out != NULL && contains(mgc_string_ptr(out), "\"errorsToday\":1"));
    CHECK(out != NULL && contains(mgc_string_ptr(out), "\"message\":\"HTTP 401 from Stripe\""));
    CHECK(out != NULL && contains(mgc_string_ptr(out), "\"kind\":\"validation\""));
    mgc_string_free(out);
}

/* Hostile input to the mgc_store_* calls: NULL pointers, invalid UTF-8 and JSON, unknown
 * connector and project ids, a project folder that is not one, a freed or foreign handle. Each
 * is refused with its own result and a message naming the argument, leaves `*out` alone, and
 * changes no file: neither the project nor the store (nor the keyring). The project has stripe
 * stored and injected. */
static void test_store_hostile(mgc_store *store, mgc_registry *registry, const char *project, const char *store_path,
                               const char *keyring, const char *not_a_project) {
    mgc_string *sentinel = (mgc_string *)0x1;
    mgc_string *out = sentinel;
    const char bad_utf8[] = {'s', (char)0xff, 'x'};
    const char *good = "{\"publishableKey\":\"pk_test_51Abc\",\"secretKey\":\"sk_test_51HostileSecret\"}";
    const char *bad_secret = "{\"secretKey\":\"sk_test_51HostileSecret\",\"currency\":\"EURO\"}";
    size_t plen = strlen(project), glen = strlen(good);
    unsigned long long project_before = tree_fingerprint(project);
    /* The store's database is in WAL mode: a write reaches the -wal file first. */
    char wal[4096];
    unsigned long long store_before, wal_before;
    snprintf(wal, sizeof wal, "%s-wal", store_path);
    store_before = tree_fingerprint(store_path);
    wal_before = tree_fingerprint(wal);
    unsigned long long keyring_before = tree_fingerprint(keyring);
    unsigned long long empty_before = tree_fingerprint(not_a_project);

    /* NULL handles and pointers. */
    CHECK(mgc_store_add(NULL, registry, project, plen, "prj-c", 5, "stripe", 6, good, glen, 0, &out) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "store is NULL"));
    CHECK(mgc_store_update(store, NULL, project, plen, "prj-c", 5, "stripe", 6, good, glen, 0, &out) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "registry is NULL"));
    CHECK(mgc_store_remove(store, registry, NULL, plen, "prj-c", 5, "stripe", 6, 0, &out) == MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "dir is NULL with length"));
    CHECK(mgc_store_set_enabled(store, registry, project, plen, NULL, 5, "stripe", 6, 1, &out) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "project_id is NULL with length 5"));
    CHECK(mgc_store_add(store, registry, project, plen, "prj-c", 5, NULL, 6, good, glen, 0, &out) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "id is NULL with length 6"));
    CHECK(mgc_store_add(store, registry, project, plen, "prj-c", 5, "stripe", 6, NULL, glen, 0, &out) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "config is NULL with length"));
    CHECK(mgc_store_add(store, registry, project, plen, "prj-c", 5, "stripe", 6, good, glen, 0, NULL) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "out is NULL"));
    CHECK(mgc_store_update(store, registry, project, plen, "prj-c", 5, "stripe", 6, good, glen, MGC_MERGE, NULL) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(mgc_store_remove(store, registry, project, plen, "prj-c", 5, "stripe", 6, 0, NULL) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(mgc_store_set_enabled(store, registry, project, plen, "prj-c", 5, "stripe", 6, 0, NULL) ==
          MGC_RESULT_NULL_ARGUMENT);
    /* An empty project id, invalid UTF-8, a length no object can have. */
    CHECK(mgc_store_add(store, registry, project, plen, "", 0, "stripe", 6, good, glen, 0, &out) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(contains(mgc_last_error(), "project_id is empty"));
    CHECK(mgc_store_update(store, registry, project, plen, bad_utf8, sizeof bad_utf8, "stripe", 6, good, glen, 0,
                           &out) == MGC_RESULT_INVALID_UTF8);
    CHECK(contains(mgc_last_error(), "project_id is not UTF-8 (at byte 1)"));
    CHECK(mgc_store_remove(store, registry, project, (size_t)-1, "prj-c", 5, "stripe", 6, 0, &out) ==
          MGC_RESULT_INVALID_LENGTH);
    /* A freed, or a foreign, handle. */
    CHECK(mgc_store_add((mgc_store *)registry, registry, project, plen, "prj-c", 5, "stripe", 6, good, glen, 0,
                        &out) == MGC_RESULT_INVALID_HANDLE);
    CHECK(contains(mgc_last_error(), "store is not a live object"));
    CHECK(mgc_store_remove(store, (const mgc_registry *)store, project, plen, "prj-c", 5, "stripe", 6, 0, &out) ==
          MGC_RESULT_INVALID_HANDLE);
    /* Invalid JSON, for a whole config and for a merge patch. */
    CHECK(mgc_store_add(store, registry, project, plen, "prj-c", 5, "stripe", 6, "{\"secretKey\":", 13, 0, &out) ==
          MGC_RESULT_INVALID_JSON);
    CHECK(contains(mgc_last_error(), "config:1:13: not valid JSON"));
    CHECK(mgc_store_update(store, registry, project, plen, "prj-c", 5, "stripe", 6, "{]", 2, MGC_MERGE, &out) ==
          MGC_RESULT_INVALID_JSON);
    CHECK(mgc_store_update(store, registry, project, plen, "prj-c", 5, "stripe", 6, NULL, 0, MGC_MERGE, &out) ==
          MGC_RESULT_INVALID_JSON); /* NULL with length 0 is the empty string */
    /* Unknown connector ids, in every call. */
    CHECK(mgc_store_add(store, registry, project, plen, "prj-c", 5, "strpe", 5, good, glen, 0, &out) ==
          MGC_RESULT_UNKNOWN_CONNECTOR);
    CHECK(contains(mgc_last_error(), "did you mean `stripe`"));
    CHECK(mgc_store_update(store, registry, project, plen, "prj-c", 5, "strpe", 5, good, glen, MGC_MERGE, &out) ==
          MGC_RESULT_UNKNOWN_CONNECTOR);
    CHECK(mgc_store_remove(store, registry, project, plen, "prj-c", 5, "strpe", 5, 0, &out) ==
          MGC_RESULT_UNKNOWN_CONNECTOR);
    CHECK(mgc_store_set_enabled(store, registry, project, plen, "prj-c", 5, "strpe", 5, 1, &out) ==
          MGC_RESULT_UNKNOWN_CONNECTOR);
    /* A project id the store does not have, a connector the project does not have. */
    CHECK(mgc_store_update(store, registry, project, plen, "prj-none", 8, "stripe", 6, good, glen, MGC_MERGE,
                           &out) == MGC_RESULT_NOT_ENABLED);
    CHECK(contains(mgc_last_error(), "no stored instance for project `prj-none`"));
    CHECK(mgc_store_set_enabled(store, registry, project, plen, "prj-none", 8, "stripe", 6, 0, &out) ==
          MGC_RESULT_NOT_ENABLED);
    CHECK(mgc_store_remove(store, registry, project, plen, "prj-c", 5, "supabase", 8, 0, &out) ==
          MGC_RESULT_NOT_ENABLED);
    /* A folder that is not a project, and one that does not exist: nothing is created in them. */
    CHECK(mgc_store_add(store, registry, not_a_project, strlen(not_a_project), "prj-c", 5, "stripe", 6, good, glen, 0,
                        &out) == MGC_RESULT_PROJECT_ERROR);
    CHECK(contains(mgc_last_error(), "no package.json"));
    CHECK(mgc_store_remove(store, registry, "/nonexistent/dir", 16, "prj-c", 5, "stripe", 6, 0, &out) ==
          MGC_RESULT_PROJECT_ERROR);
    /* A config refused after validation names the field, never the secret it was given. */
    CHECK(mgc_store_add(store, registry, project, plen, "prj-c", 5, "stripe", 6, bad_secret, strlen(bad_secret), 0,
                        &out) == MGC_RESULT_INVALID_CONFIG);
    CHECK(contains(mgc_last_error(), "/currency"));
    CHECK(!contains(mgc_last_error(), "HostileSecret"));

    CHECK(out == sentinel);
    CHECK(tree_fingerprint(project) == project_before);
    CHECK(tree_fingerprint(store_path) == store_before);
    CHECK(tree_fingerprint(wal) == wal_before);
    CHECK(tree_fingerprint(keyring) == keyring_before);
    CHECK(tree_fingerprint(not_a_project) == empty_before);
    CHECK(access("/nonexistent/dir", F_OK) != 0);

    /* A merge patch whose result is invalid is refused naming the field (the secret stays out of
     * the message) and changes no project file; the store records only the audited read of the
     * stored config it merged into. */
    CHECK(mgc_store_update(store, registry, project, plen, "prj-c", 5, "stripe", 6, bad_secret, strlen(bad_secret),
                           MGC_MERGE, &out) == MGC_RESULT_INVALID_CONFIG);
    CHECK(contains(mgc_last_error(), "/currency"));
    CHECK(!contains(mgc_last_error(), "HostileSecret"));
    CHECK(!contains(mgc_last_error(), "sk_test_51VerySecret"));
    CHECK(out == sentinel);
    CHECK(tree_fingerprint(project) == project_before);
}

/* The store + project protocol: add, merge update, an update whose code change fails (the
 * store write is undone), enable refused before validation, remove. */
static void test_store(mgc_registry *registry, const char *project, const char *keyring) {
    mgc_store *store = NULL;
    mgc_string *out = NULL;
    char store_path[4096];
    char src[4096];
    char moved[4096];
    char not_a_project[4096];
    const char *good = "{\"publishableKey\":\"pk_test_51Abc\",\"secretKey\":\"sk_test_51VerySecret\"}";
    const char *eur = "{\"currency\":\"eur\"}";
    const char *gbp = "{\"currency\":\"gbp\"}";
    snprintf(store_path, sizeof store_path, "%s.store.db", keyring);
    snprintf(src, sizeof src, "%s/src", project);
    snprintf(moved, sizeof moved, "%s/.mobigen/moved-src", project);
    snprintf(not_a_project, sizeof not_a_project, "%s.not-a-project", keyring);

    /* A PostgreSQL store that cannot be reached (nothing listens on port 1): an error naming it
       without its password, and no keyring created for it. */
    {
        const char *pg = "postgres://svc:C-Pg-Secret@127.0.0.1:1/mobigen";
        char pg_keyring[4096];
        mgc_store *unreachable = NULL;
        snprintf(pg_keyring, sizeof pg_keyring, "%s.pg-keyring", keyring);
        CHECK(mgc_store_open(pg, strlen(pg), pg_keyring, strlen(pg_keyring), "", 0, &unreachable) ==
              MGC_RESULT_STORE_ERROR);
        CHECK(unreachable == NULL);
        CHECK(contains(mgc_last_error(), "postgres://svc:***@127.0.0.1:1/mobigen"));
        CHECK(!contains(mgc_last_error(), "C-Pg-Secret"));
        CHECK(access(pg_keyring, F_OK) != 0);
    }
    CHECK(mgc_store_open(store_path, strlen(store_path), keyring, strlen(keyring), "abi test", 8, NULL) ==
          MGC_RESULT_NULL_ARGUMENT);
    CHECK(mgc_store_open(store_path, strlen(store_path), keyring, strlen(keyring), "abi test", 8, &store) ==
          MGC_RESULT_OK);
    CHECK(mgc_store_add(store, registry, project, strlen(project), "prj-c", 5, "stripe", 6, good, strlen(good), 0,
                        &out) == MGC_RESULT_OK);
    CHECK(out != NULL && contains(mgc_string_ptr(out), "\"action\":\"created\""));
    CHECK(out != NULL && !contains(mgc_string_ptr(out), "sk_test_51VerySecret"));
    mgc_string_free(out);
    out = NULL;
    CHECK(mgc_store_add(store, registry, project, strlen(project), "prj-c", 5, "stripe", 6, good, strlen(good),
                        MGC_REFUSE_STORED, &out) == MGC_RESULT_ALREADY_EXISTS);
    CHECK(out == NULL);
    CHECK(mgc_store_update(store, registry, project, strlen(project), "prj-c", 5, "stripe", 6, eur, strlen(eur),
                           MGC_MERGE, &out) == MGC_RESULT_OK);
    CHECK(out != NULL && contains(mgc_string_ptr(out), "\"credentialsVersion\":2"));
    mgc_string_free(out);
    out = NULL;
    CHECK(mkdir(not_a_project, 0700) == 0);
    test_store_hostile(store, registry, project, store_path, keyring, not_a_project);

    /* Writing through a link into .mobigen/ is refused: the update fails after the store write,
     * and the previous credentials are put back. */
    CHECK(rename(src, moved) == 0);
    CHECK(symlink(moved, src) == 0);
    CHECK(mgc_store_update(store, registry, project, strlen(project), "prj-c", 5, "stripe", 6, gbp, strlen(gbp),
                           MGC_MERGE, &out) == MGC_RESULT_IO);
    CHECK(contains(mgc_last_error(), "the stored credentials were put back to version 2"));
    CHECK(out == NULL);
    CHECK(unlink(src) == 0);
    CHECK(rename(moved, src) == 0);

    test_store_activity(store);

    CHECK(mgc_store_set_enabled(store, registry, project, strlen(project), "prj-c", 5, "stripe", 6, 1, &out) ==
          MGC_RESULT_ILLEGAL_TRANSITION);
    CHECK(mgc_store_set_enabled(store, registry, project, strlen(project), "prj-c", 5, "supabase", 8, 1, &out) ==
          MGC_RESULT_NOT_ENABLED);
    CHECK(out == NULL);
    CHECK(mgc_store_remove(store, registry, project, strlen(project), "prj-c", 5, "stripe", 6, 0, &out) ==
          MGC_RESULT_OK);
    CHECK(out != NULL && contains(mgc_string_ptr(out), "\"action\":\"removed\""));
    mgc_string_free(out);
    out = NULL;
    CHECK(mgc_store_remove(store, registry, project, strlen(project), "prj-c", 5, "stripe", 6, 0, &out) ==
          MGC_RESULT_NOT_ENABLED);
    CHECK(mgc_store_free(store) == MGC_RESULT_OK);
    CHECK(mgc_store_free(store) == MGC_RESULT_INVALID_HANDLE);
    CHECK(mgc_store_free(NULL) == MGC_RESULT_OK);
}

int main(int argc, char **argv) {
    mgc_registry *registry = NULL;
    if (argc != 3) {
        fprintf(stderr, "usage: %s PROJECT_DIR KEYRING_PATH\n", argv[0]);
        return 2;
    }
    if (mgc_registry_new(&registry) != MGC_RESULT_OK) {
        fprintf(stderr, "mgc_registry_new: %s\n", mgc_last_error());
        return 1;
    }
    test_null_and_bad_arguments(registry);
    test_frees();
    test_config_and_project(registry, argv[1]);
    test_supplied_files(registry, argv[1]);
    test_store(registry, argv[1], argv[2]);
    test_vault(argv[2]);
    mgc_registry_free(registry);
    printf("c-abi: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
