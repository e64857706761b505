// Package provider holds the Terraform framework glue of pmgtm. Domain logic
// lives in plain Go packages beside it (zone, model, parentzone).
package provider
