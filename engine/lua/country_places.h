/* Where each country is, roughly (the place of its first time zone in tzdata), for
 * impossible-travel checks from a GeoIP country: verdict.country_place(code). */
#ifndef VD_COUNTRY_PLACES_H
#define VD_COUNTRY_PLACES_H

#include <stddef.h>

typedef struct vd_country_place {
    char code[3]; /* ISO 3166-1 alpha-2, upper case */
    double lat, lon;
} vd_country_place_t;

/* Sorted by code. */
extern const vd_country_place_t vd_country_places[];
extern const size_t vd_country_places_n;

#endif
