package cloudflare

import (
	"context"
	"errors"
	"strings"
	"testing"

	cf "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/dns"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/zones"
)

// TestOfficialSDK runs Cloudflare's own Go SDK (generated from the API's
// published schema) against the emulator for every operation pmgtm uses:
// the zone lookup, record listing, create, delete, the batch endpoint and
// the errors pmgtm acts on. The emulator must take the SDK's requests as
// the API does and answer in shapes the SDK decodes to the same values.
func TestOfficialSDK(t *testing.T) {
	emu := New("sdk-token", "example.test")
	defer emu.Close()
	emu.MaxPage = 2 // the SDK's pager must walk pages as the API serves them
	c := cf.NewClient(option.WithBaseURL(emu.URL()+"/client/v4/"), option.WithAPIToken("sdk-token"), option.WithMaxRetries(0))
	ctx := context.Background()

	zs, err := c.Zones.List(ctx, zones.ZoneListParams{Name: cf.F("example.test")})
	if err != nil || len(zs.Result) != 1 || zs.Result[0].ID != emu.ZoneID("example.test") || zs.Result[0].Name != "example.test" {
		t.Fatalf("zone lookup: %+v %v", zs, err)
	}
	zoneID := cf.F(zs.Result[0].ID)

	var ids []string
	for _, target := range []string{"lb1.example.test", "lb2.example.test", "lb3.example.test"} {
		rec, err := c.DNS.Records.New(ctx, dns.RecordNewParams{ZoneID: zoneID, Body: dns.NSRecordParam{
			Name: cf.F("api.example.test"), TTL: cf.F(dns.TTL(300)), Type: cf.F(dns.NSRecordTypeNS), Content: cf.F(target)}})
		if err != nil || rec.ID == "" || rec.Name != "api.example.test" || rec.Content != target || rec.TTL != 300 || rec.Type != "NS" {
			t.Fatalf("create NS %s: %+v %v", target, rec, err)
		}
		ids = append(ids, rec.ID)
	}
	txt, err := c.DNS.Records.New(ctx, dns.RecordNewParams{ZoneID: zoneID, Body: dns.TXTRecordParam{
		Name: cf.F("api._pmgtm.example.test"), TTL: cf.F(dns.TTL(300)), Type: cf.F(dns.TXTRecordTypeTXT), Content: cf.F(`"heritage=pmgtm,owner=default"`)}})
	if err != nil || txt.Content != `"heritage=pmgtm,owner=default"` {
		t.Fatalf("create TXT: %+v %v", txt, err)
	}

	// An identical record is refused with the code pmgtm counts as done.
	_, err = c.DNS.Records.New(ctx, dns.RecordNewParams{ZoneID: zoneID, Body: dns.NSRecordParam{
		Name: cf.F("api.example.test"), TTL: cf.F(dns.TTL(300)), Type: cf.F(dns.NSRecordTypeNS), Content: cf.F("lb1.example.test")}})
	var apiErr *cf.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || len(apiErr.Errors) == 0 || apiErr.Errors[0].Code != 81058 {
		t.Fatalf("identical record: %v", err)
	}

	// The listing, all pages, filtered as pmgtm filters it.
	var listed []string
	pager := c.DNS.Records.ListAutoPaging(ctx, dns.RecordListParams{ZoneID: zoneID, PerPage: cf.F(5.0)})
	for pager.Next() {
		r := pager.Current()
		listed = append(listed, string(r.Type)+" "+r.Name+" "+r.Content)
	}
	if err := pager.Err(); err != nil || len(listed) != 4 {
		t.Fatalf("listing: %q %v", listed, err)
	}
	exact, err := c.DNS.Records.List(ctx, dns.RecordListParams{ZoneID: zoneID, Name: cf.F(dns.RecordListParamsName{Exact: cf.F("api._pmgtm.example.test")}),
		Type: cf.F(dns.RecordListParamsTypeTXT)})
	if err != nil || len(exact.Result) != 1 || exact.Result[0].ID != txt.ID {
		t.Fatalf("listing by exact name and type: %+v %v", exact, err)
	}

	// One batch: a member out, the marker replaced.
	batch, err := c.DNS.Records.Batch(ctx, dns.RecordBatchParams{ZoneID: zoneID,
		Deletes: cf.F([]dns.RecordBatchParamsDelete{{ID: cf.F(ids[2])}, {ID: cf.F(txt.ID)}}),
		Posts: cf.F([]dns.RecordBatchParamsPostUnion{dns.TXTRecordParam{Name: cf.F("api._pmgtm.example.test"), TTL: cf.F(dns.TTL(300)),
			Type: cf.F(dns.TXTRecordTypeTXT), Content: cf.F(`"heritage=pmgtm,owner=default,types=NS"`)}})})
	if err != nil || len(batch.Deletes) != 2 || len(batch.Posts) != 1 || batch.Posts[0].ID == "" || !strings.Contains(batch.Posts[0].Content, "types=NS") {
		t.Fatalf("batch: %+v %v", batch, err)
	}
	// A batch that deletes a record no longer there changes nothing.
	_, err = c.DNS.Records.Batch(ctx, dns.RecordBatchParams{ZoneID: zoneID,
		Deletes: cf.F([]dns.RecordBatchParamsDelete{{ID: cf.F(ids[0])}, {ID: cf.F(ids[2])}})})
	if !errors.As(err, &apiErr) || len(apiErr.Errors) == 0 || apiErr.Errors[0].Code != 81044 {
		t.Fatalf("batch deleting a missing record: %v", err)
	}
	if n := len(emu.Records("example.test")); n != 3 {
		t.Fatalf("a failed batch changed the zone: %d records", n)
	}

	if _, err := c.DNS.Records.Delete(ctx, ids[0], dns.RecordDeleteParams{ZoneID: zoneID}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.DNS.Records.Delete(ctx, ids[0], dns.RecordDeleteParams{ZoneID: zoneID})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Errors[0].Code != 81044 {
		t.Fatalf("deleting again: %v", err)
	}

	// A token without the zone gets the API's authentication error.
	other := cf.NewClient(option.WithBaseURL(emu.URL()+"/client/v4/"), option.WithAPIToken("wrong-token"), option.WithMaxRetries(0))
	if _, err := other.Zones.List(ctx, zones.ZoneListParams{Name: cf.F("example.test")}); !errors.As(err, &apiErr) || apiErr.StatusCode/100 != 4 {
		t.Fatalf("a wrong token: %v", err)
	}
}
