// Package registry serves a goreleaser dist directory through the Terraform
// provider and module registry protocols on loopback HTTPS, so that tests
// can run `terraform init` / `tofu init` against the files a release would
// publish: the provider zips, SHA256SUMS and its detached signature, and the
// module archive.
package registry
