// Package route53 emulates the Route 53 REST-XML API calls libdns/route53
// makes: ListHostedZonesByName, ListResourceRecordSets (paged with
// NextRecordName/NextRecordType), ChangeResourceRecordSets (an atomic batch
// of CREATE/UPSERT/DELETE, rejected whole with InvalidChangeBatch) and
// GetChange (INSYNC). It throttles like the service (5 requests per second
// per account, error Throttling) when RateLimit is set. Tests reach it
// through the AWS SDK's endpoint setting AWS_ENDPOINT_URL_ROUTE_53.
package route53
