/* A C program using Mobigen connectors: lists the connectors, validates a config, adds Stripe to
 * an Expo project and removes it again.
 *
 * Usage: mobigen_example PROJECT_DIR CONFIG_JSON_FILE
 * (`cargo xtask test` builds and runs it on a temporary copy of examples/sample-app.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobigen_connectors.h"

static int fail(const char *what, mgc_result result) {
    fprintf(stderr, "%s failed (%u): %s\n", what, (unsigned)result, mgc_last_error());
    return 1;
}

static char *read_file(const char *path, size_t *len) {
    FILE *file = fopen(path, "rb");
    char *text;
    long size;
    if (file == NULL) return NULL;
    if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
        fclose(file);
        return NULL;
    }
    text = malloc((size_t)size + 1);
    if (text != NULL && fread(text, 1, (size_t)size, file) != (size_t)size) {
        free(text);
        text = NULL;
    }
    fclose(file);
    if (text != NULL) {
        text[size] = '\0';
        *len = (size_t)size;
    }
    return text;
}

int main(int argc, char **argv) {
    mgc_registry *registry = NULL;
    mgc_string *out = NULL;
    mgc_result result;
    const char *project;
    char *config;
    size_t config_len = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: %s PROJECT_DIR CONFIG_JSON_FILE\n", argv[0]);
        return 2;
    }
    project = argv[1];
    config = read_file(argv[2], &config_len);
    if (config == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 1;
    }

    printf("mobigen-connectors %s\n", mgc_version());
    if ((result = mgc_registry_new(&registry)) != MGC_RESULT_OK) return fail("mgc_registry_new", result);

    if ((result = mgc_registry_list_json(registry, NULL, 0, &out)) != MGC_RESULT_OK) return fail("list", result);
    printf("connectors: %.*s\n", (int)mgc_string_len(out), mgc_string_ptr(out));
    mgc_string_free(out);

    if ((result = mgc_validate_config(registry, "stripe", 6, config, config_len, &out)) != MGC_RESULT_OK)
        return fail("validate", result);
    printf("config is valid\n");
    mgc_string_free(out);

    if ((result = mgc_project_add(registry, project, strlen(project), "stripe", 6, config, config_len, 0, &out)) !=
        MGC_RESULT_OK)
        return fail("add", result);
    printf("added: %s\n", mgc_string_ptr(out));
    mgc_string_free(out);

    if ((result = mgc_project_status(registry, project, strlen(project), &out)) != MGC_RESULT_OK)
        return fail("status", result);
    printf("status: %s\n", mgc_string_ptr(out));
    mgc_string_free(out);

    if ((result = mgc_project_remove(registry, project, strlen(project), "stripe", 6, 0, &out)) != MGC_RESULT_OK)
        return fail("remove", result);
    printf("removed: %s\n", mgc_string_ptr(out));
    mgc_string_free(out);

    mgc_registry_free(registry);
    free(config);
    return 0;
}
