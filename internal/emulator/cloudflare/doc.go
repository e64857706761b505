// Package cloudflare emulates the part of the Cloudflare API v4 that pmgtm
// uses, following the documented shapes: the response envelope, zones by
// name, dns_records with page/per_page pagination and filters,
// create/patch/delete and the batch endpoint (deletes, patches, puts, posts
// in one transaction), error codes (81058 an identical record exists, 81054
// CNAME conflicts, 81056 NS conflicts, 81044 no such record, 10000
// authentication, 9109 not authorized), tokens scoped to zones and
// permissions (Zone:Read to look zones up), the documented rate limit
// (1,200 requests per 5 minutes per token, then a block, answered 429 with
// Retry-After) when switched on, and edge error pages (HTML 5xx). Tests
// reach it through an HTTP client (see Client).
package cloudflare
