// Package providerbench is `make bench-provider`: the real terraform CLI
// drives the provider built from this checkout against a real BIND parent
// and three real agents on loopback, for N hostnames, side by side with
// terraform_data x N (Terraform's own floor) in the same run. It measures
// the wall time of each command, counts what the provider sent (UPDATEs
// and transfers at BIND, requests, connections and DNS queries at the
// agents) and the provider process's peak memory, and checks that the
// parent holds exactly what the configuration says after each step.
package providerbench
