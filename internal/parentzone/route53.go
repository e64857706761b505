package parentzone

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/libdns/libdns"
)

// Route53Config configures the Route 53 backend. Empty credentials use the
// standard AWS chain (environment, shared config, SSO, instance role).
type Route53Config struct {
	Region          string
	HostedZoneID    string
	Profile         string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	MaxRetries      int
	// Limit is the client's own request budget, shared by every backend
	// of the same account in this process; zero means Route53Limit.
	Limit RateLimit
	// OnWait is told of each wait for that budget.
	OnWait WaitFunc
}

// NewRoute53 returns a Route 53 backend: pmgtm's own client on the AWS SDK.
// It looks the hosted zone up once per provider process (never with
// hosted_zone_id), lists the zone only when pmgtm reads it, and writes
// each change as one ChangeResourceRecordSets batch computed from the sets
// it listed, so the cost of a write does not grow with the zone. The AWS
// SDK endpoint settings (AWS_ENDPOINT_URL_ROUTE_53) redirect it, which the
// tests use.
func NewRoute53(cfg Route53Config) (Backend, error) {
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, fmt.Errorf("route53: access_key_id and secret_access_key go together; set both or neither (then the AWS credential chain is used)")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1" // Route 53 is global; the SDK still needs a region to sign
	}
	attempts := cfg.MaxRetries
	if attempts <= 0 {
		attempts = 5
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), attempts) }),
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	if cfg.Limit == (RateLimit{}) {
		cfg.Limit = Route53Limit
	}
	// The limit is per account; the access key (or the profile, for the
	// credential chain) stands for it.
	who := cfg.AccessKeyID
	if who == "" {
		who = "profile:" + cfg.Profile
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("route53: loading the AWS configuration: %w", err)
	}
	// Around the client the SDK built (which carries AWS_CA_BUNDLE and the
	// like), so that every attempt, retries included, waits for the budget.
	if cfg.Limit.Every > 0 {
		awsCfg.HTTPClient = &limitedDoer{base: awsCfg.HTTPClient, limit: sharedLimiter(account("route53", who), cfg.Limit), onWait: cfg.OnWait}
	}
	return &route53Backend{client: r53.NewFromConfig(awsCfg), zoneID: strings.TrimPrefix(cfg.HostedZoneID, "/hostedzone/"),
		ids: map[string]string{}, sets: map[string]map[setKey]r53types.ResourceRecordSet{}}, nil
}

type route53Backend struct {
	client *r53.Client
	zoneID string

	mu   sync.Mutex
	ids  map[string]string                                // zone name -> hosted zone id
	sets map[string]map[setKey]r53types.ResourceRecordSet // zone name -> sets as last listed or written
}

type setKey struct{ name, rtype string } // name fully qualified, lower case

func (b *route53Backend) zone(ctx context.Context, name string) (string, error) {
	if b.zoneID != "" {
		return b.zoneID, nil
	}
	name = fqdn(name)
	b.mu.Lock()
	id, ok := b.ids[name]
	b.mu.Unlock()
	if ok {
		return id, nil
	}
	out, err := b.client.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{DNSName: aws.String(name), MaxItems: aws.Int32(10)})
	if err != nil {
		return "", err
	}
	var public, private []string
	for _, z := range out.HostedZones {
		if strings.EqualFold(aws.ToString(z.Name), name) {
			if z.Config != nil && z.Config.PrivateZone {
				private = append(private, aws.ToString(z.Id))
			} else {
				public = append(public, aws.ToString(z.Id))
			}
		}
	}
	switch {
	case len(public) == 1:
		id = public[0]
	case len(public) == 0 && len(private) == 1:
		id = private[0]
	case len(public)+len(private) == 0:
		return "", fmt.Errorf("route53: no hosted zone named %s; check the zone, or set route53.hosted_zone_id", name)
	default:
		return "", fmt.Errorf("route53: %d hosted zones are named %s; set route53.hosted_zone_id to the one pmgtm manages", len(public)+len(private), name)
	}
	id = strings.TrimPrefix(id, "/hostedzone/")
	b.mu.Lock()
	b.ids[name] = id
	b.mu.Unlock()
	return id, nil
}

// GetRecords lists the zone (the only listing pmgtm makes) and remembers
// its sets for the writes that follow.
func (b *route53Backend) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	id, err := b.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	sets := map[setKey]r53types.ResourceRecordSet{}
	var out []libdns.Record
	p := r53.NewListResourceRecordSetsPaginator(b.client, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.ResourceRecordSets {
			if s.SetIdentifier != nil || s.AliasTarget != nil {
				out = append(out, fromRoute53(s, zone)...) // routing policies and aliases: seen, never changed
				continue
			}
			sets[keyOf(s)] = s
			out = append(out, fromRoute53(s, zone)...)
		}
	}
	b.mu.Lock()
	b.sets[fqdn(zone)] = sets
	b.mu.Unlock()
	return out, nil
}

func keyOf(s r53types.ResourceRecordSet) setKey {
	return setKey{name: fqdn(unescapeName(aws.ToString(s.Name))), rtype: string(s.Type)}
}

// unescapeName undoes Route 53's octal escapes in names (\052 is "*").
func unescapeName(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// AppendRecords adds the records to their sets: one batch of UPSERTs.
func (b *route53Backend) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, b.change(ctx, zone, nil, recs)
}

// DeleteRecords takes the records out of their sets: one batch of UPSERTs
// (or DELETEs of sets left empty).
func (b *route53Backend) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, b.change(ctx, zone, recs, nil)
}

// ChangeRecords takes del out of their sets and adds add, in one batch
// (Route 53 applies a batch atomically): a hostname's marker and NS change
// cost one request; a set whose values stay and whose TTL changes is one
// UPSERT.
func (b *route53Backend) ChangeRecords(ctx context.Context, zone string, del, add []libdns.Record) ([]libdns.Record, error) {
	return add, b.change(ctx, zone, del, add)
}

// change turns every set the records touch into (have - del + add), from
// the sets as listed, in one ChangeResourceRecordSets batch; a set that
// gains records takes their TTL.
// A batch rejected because a set changed since it was listed (another
// editor) is computed again from fresh reads of those sets, once.
func (b *route53Backend) change(ctx context.Context, zone string, del, add []libdns.Record) error {
	id, err := b.zone(ctx, zone)
	if err != nil {
		return err
	}
	type group struct {
		key       setKey
		ttl       int64
		adds      bool
		add, drop []string
	}
	var groups []*group
	at := func(rec libdns.Record) *group {
		rr := rec.RR()
		k := setKey{name: fqdn(libdns.AbsoluteName(rr.Name, zone)), rtype: rr.Type}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.key == k })
		if i < 0 {
			groups = append(groups, &group{key: k})
			i = len(groups) - 1
		}
		return groups[i]
	}
	for _, rec := range del {
		g := at(rec)
		g.drop = append(g.drop, toRoute53Value(rec))
	}
	for _, rec := range add {
		g := at(rec)
		g.add, g.adds, g.ttl = append(g.add, toRoute53Value(rec)), true, int64(rec.RR().TTL/time.Second)
	}
	for try := 0; ; try++ {
		var changes []r53types.Change
		var after []r53types.ResourceRecordSet
		for _, g := range groups {
			have, found, err := b.set(ctx, id, zone, g.key, try > 0)
			if err != nil {
				return err
			}
			var haveValues []string
			for _, r := range have.ResourceRecords {
				haveValues = append(haveValues, aws.ToString(r.Value))
			}
			values := slices.DeleteFunc(slices.Clone(haveValues), func(v string) bool { return slices.Contains(g.drop, v) })
			for _, v := range g.add {
				if !slices.Contains(values, v) {
					values = append(values, v)
				}
			}
			ttl := g.ttl
			if !g.adds && found {
				ttl = aws.ToInt64(have.TTL)
			}
			switch {
			case len(values) == 0 && found:
				changes = append(changes, r53types.Change{Action: r53types.ChangeActionDelete, ResourceRecordSet: &have})
			case len(values) == 0:
				// nothing there, nothing to remove
			case found && ttl == aws.ToInt64(have.TTL) && sameSet(values, haveValues):
				// already so
			default:
				s := r53types.ResourceRecordSet{Name: aws.String(g.key.name), Type: r53types.RRType(g.key.rtype), TTL: aws.Int64(ttl)}
				for _, v := range values {
					s.ResourceRecords = append(s.ResourceRecords, r53types.ResourceRecord{Value: aws.String(v)})
				}
				changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &s})
				after = append(after, s)
			}
		}
		if len(changes) == 0 {
			return nil
		}
		_, err := b.client.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id),
			ChangeBatch: &r53types.ChangeBatch{Changes: changes, Comment: aws.String("pmgtm")}})
		var stale *r53types.InvalidChangeBatch
		if errors.As(err, &stale) && try == 0 {
			continue // a set changed behind us: read those sets again
		}
		if err != nil {
			return err
		}
		b.remember(zone, changes, after)
		return nil
	}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// set returns one set as last listed, or read now (fresh, or not listed).
func (b *route53Backend) set(ctx context.Context, id, zone string, k setKey, fresh bool) (r53types.ResourceRecordSet, bool, error) {
	b.mu.Lock()
	cached, listed := b.sets[fqdn(zone)]
	s, found := cached[k]
	b.mu.Unlock()
	if listed && !fresh {
		return s, found, nil
	}
	out, err := b.client.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id),
		StartRecordName: aws.String(k.name), StartRecordType: r53types.RRType(k.rtype), MaxItems: aws.Int32(1)})
	if err != nil {
		return s, false, err
	}
	if len(out.ResourceRecordSets) == 1 && keyOf(out.ResourceRecordSets[0]) == k {
		return out.ResourceRecordSets[0], true, nil
	}
	return r53types.ResourceRecordSet{}, false, nil
}

// remember applies a carried-out batch to the listed sets.
func (b *route53Backend) remember(zone string, changes []r53types.Change, after []r53types.ResourceRecordSet) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sets := b.sets[fqdn(zone)]
	if sets == nil {
		return
	}
	for _, c := range changes {
		if c.Action == r53types.ChangeActionDelete {
			delete(sets, keyOf(*c.ResourceRecordSet))
		}
	}
	for _, s := range after {
		sets[keyOf(s)] = s
	}
}

// toRoute53Value renders a record's value: TXT quoted (Route 53 rejects
// unquoted text), names fully qualified.
func toRoute53Value(rec libdns.Record) string {
	switch r := rec.(type) {
	case libdns.TXT:
		return quoteTXT(r.Text)
	case libdns.NS:
		return fqdn(r.Target)
	case libdns.Address:
		return r.IP.String()
	}
	return rec.RR().Data
}

func fromRoute53(s r53types.ResourceRecordSet, zone string) []libdns.Record {
	name := libdns.RelativeName(unescapeName(aws.ToString(s.Name)), fqdn(zone))
	ttl := time.Duration(aws.ToInt64(s.TTL)) * time.Second
	var out []libdns.Record
	for _, r := range s.ResourceRecords {
		v := aws.ToString(r.Value)
		switch s.Type {
		case r53types.RRTypeA, r53types.RRTypeAaaa:
			if ip, err := netip.ParseAddr(v); err == nil {
				out = append(out, libdns.Address{Name: name, TTL: ttl, IP: ip})
				continue
			}
		case r53types.RRTypeNs:
			out = append(out, libdns.NS{Name: name, TTL: ttl, Target: v})
			continue
		case r53types.RRTypeTxt:
			out = append(out, libdns.TXT{Name: name, TTL: ttl, Text: unquoteTXT(v)})
			continue
		}
		out = append(out, libdns.RR{Name: name, TTL: ttl, Type: string(s.Type), Data: v})
	}
	if s.AliasTarget != nil {
		out = append(out, libdns.RR{Name: name, TTL: ttl, Type: string(s.Type), Data: "ALIAS " + aws.ToString(s.AliasTarget.DNSName)})
	}
	return out
}
