// The header compiles as C++ and can be included from two translation units of one program.
#include "mobigen_connectors.h"

int header_b_check();

int main() {
    mgc_result result = MGC_RESULT_OK;
    return static_cast<int>(result) + header_b_check();
}
