/* The header compiles as strict C99 (cargo xtask test: gcc -std=c99 -pedantic -Werror). */
#include "mobigen_connectors.h"

int mgc_header_c99_check(void) {
    mgc_result result = MGC_RESULT_OK;
    return (int)result + MGC_DRY_RUN;
}
