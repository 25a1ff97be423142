// Second translation unit including the header (see header_a.cpp).
#include "mobigen_connectors.h"

int header_b_check() {
    return mgc_version() == nullptr ? 1 : 0;
}
