// coffre-health: what GitOps tools compute from coffre's objects, with their own code, for the tests.
//
//	coffre-health kstatus          < objects.json   kstatus (sigs.k8s.io/cli-utils) status.Compute
//	coffre-health argocd SCRIPT.lua < objects.json  an Argo CD resource health check, run as Argo CD runs it
//
// Input: a JSON array of Kubernetes objects (or one object, or a List). Output: a JSON array with one
// {"status", "message"} per object, in input order; an object the tool refuses gets {"error"}.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: coffre-health kstatus | argocd SCRIPT.lua  (objects as JSON on stdin)")
	}
	objects, err := readObjects(os.Stdin)
	if err != nil {
		fail(err.Error())
	}
	var results []result
	switch os.Args[1] {
	case "kstatus":
		for _, object := range objects {
			results = append(results, kstatus(object))
		}
	case "argocd":
		if len(os.Args) != 3 {
			fail("usage: coffre-health argocd SCRIPT.lua")
		}
		script, err := os.ReadFile(os.Args[2])
		if err != nil {
			fail(err.Error())
		}
		for _, object := range objects {
			results = append(results, argocd(string(script), object))
		}
	default:
		fail("unknown command " + os.Args[1])
	}
	out, _ := json.Marshal(results)
	fmt.Println(string(out))
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "coffre-health: "+message)
	os.Exit(2)
}

// readObjects keeps each object as JSON: kstatus decodes it as the API machinery does (integers as int64).
func readObjects(r io.Reader) ([]json.RawMessage, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var list []json.RawMessage
	if json.Unmarshal(data, &list) == nil {
		return list, nil
	}
	var one struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &one); err != nil {
		return nil, fmt.Errorf("stdin is neither a JSON array of objects nor an object: %w", err)
	}
	if one.Items != nil {
		return one.Items, nil
	}
	return []json.RawMessage{data}, nil
}

func kstatus(raw json.RawMessage) result {
	object := &unstructured.Unstructured{}
	if err := object.UnmarshalJSON(raw); err != nil {
		return result{Error: err.Error()}
	}
	res, err := status.Compute(object)
	if err != nil {
		return result{Error: err.Error()}
	}
	return result{Status: res.Status.String(), Message: res.Message}
}

// The health statuses Argo CD accepts from a health script (gitops-engine pkg/health).
var argoStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

// argocd runs a health script as Argo CD does (util/lua): a fresh VM with the base, package, table,
// string and math libraries (no os, no io), the object as the global `obj`, and the returned table read
// as {status, message}; a status Argo CD does not know is an error.
func argocd(script string, raw json.RawMessage) result {
	var object map[string]interface{}
	if err := json.Unmarshal(raw, &object); err != nil {
		return result{Error: err.Error()}
	}
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		l.Push(l.NewFunction(lib.open))
		l.Push(lua.LString(lib.name))
		l.Call(1, 0)
	}
	l.SetGlobal("obj", toLua(l, object))
	if err := l.DoString(script); err != nil {
		return result{Error: err.Error()}
	}
	returned, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return result{Error: "the script did not return a table"}
	}
	statusValue, _ := returned.RawGetString("status").(lua.LString)
	messageValue, _ := returned.RawGetString("message").(lua.LString)
	if !argoStatuses[string(statusValue)] {
		return result{Error: fmt.Sprintf("health status %q is not valid", string(statusValue))}
	}
	return result{Status: string(statusValue), Message: string(messageValue)}
}

// toLua converts decoded JSON as Argo CD's decodeValue does: objects and arrays to tables (arrays from 1),
// numbers to numbers, null to nil.
func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case map[string]interface{}:
		table := l.NewTable()
		for key, item := range v {
			table.RawSetString(key, toLua(l, item))
		}
		return table
	case []interface{}:
		table := l.NewTable()
		for _, item := range v {
			table.Append(toLua(l, item))
		}
		return table
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	default:
		return lua.LNil
	}
}
