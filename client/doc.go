// Package client is the Go SDK for patchbay, and for any server that speaks
// Composio's v3.1 API: toolkits and their auth fields, auth configs,
// connected accounts (end users' credentials for third-party apps), API
// keys and projects. It imports only the standard library.
//
// Connecting an end user to an app that takes an API key is three steps:
// find what to ask the user for, connect them with their answer, and
// confirm the connection is active.
//
//	c, err := client.New("https://patchbay.example.com", client.WithAPIKey(os.Getenv("PATCHBAY_API_KEY")))
//	if err != nil { … }
//
//	// 1. The auth config to use (found, or created) and the fields to ask for.
//	params, err := c.ExpectedParamsForUser(ctx, "serpapi", client.SchemeAPIKey, "")
//	for _, f := range params.Fields {
//		fmt.Println(f.DisplayName, f.Required) // "API Key true"; send it as f.Name
//	}
//
//	// 2. Connect the user with what they entered.
//	req, err := c.InitiateConnection(ctx, "user-123", params.AuthConfigID, client.InitiateOptions{
//		Scheme:      params.AuthScheme,
//		Credentials: map[string]string{"generic_api_key": usersKey},
//	})
//
//	// 3. Confirm it is active.
//	account, err := req.WaitForConnection(ctx, time.Second)
//	fmt.Println(account.Status) // ACTIVE
//
// Every method takes a context first and sends one credential: the project
// key (WithAPIKey, header x-api-key) for project endpoints, the
// organization key (WithOrgAPIKey, x-org-api-key) for the Project…
// methods. Keys are sent only to the base URL's origin, never over plain
// HTTP to a host other than loopback (unless WithInsecureHTTP), and never
// appear in errors or in the client's String.
//
// An error answer is an *Error carrying the status, the server's message
// and request ID; test its class with errors.Is and the sentinels
// ErrInvalid, ErrUnauthorized, ErrForbidden, ErrNotFound and ErrConflict.
// Listings return a Page; pass its NextCursor as the next call's Cursor.
// The client does not retry.
package client
